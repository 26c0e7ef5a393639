import Foundation

/// One self-contained HTML page: title, a metrics table, and sections of headings, text, tables and figures,
/// with every image embedded as a base64 `data:image/png` URI and the CSS inline, so the single file can be
/// mailed or archived. All text is HTML-escaped.
public struct HTMLReport: Sendable {
    /// A named value in a metrics table.
    public struct Metric: Sendable, Equatable {
        /// What is measured.
        public var name: String
        /// The value as shown.
        public var value: String

        /// A metric shown as given.
        public init(_ name: String, text value: String) {
            self.name = name
            self.value = value
        }

        /// A numeric metric shown with 4 significant digits (`%.4g`).
        public init(_ name: String, _ value: Double) {
            self.init(name, text: String(format: "%.4g", value))
        }

        /// An integer metric.
        public init(_ name: String, _ value: Int) {
            self.init(name, text: String(value))
        }
    }

    /// One piece of a section's content.
    public enum Block: Sendable {
        /// A paragraph of plain text.
        case paragraph(String)
        /// A PNG image (file bytes) with a caption below it.
        case figure(png: [UInt8], caption: String)
        /// A two-column table of metrics.
        case metrics([Metric])
        /// A table with a header row.
        case table(header: [String], rows: [[String]])
        /// Monospaced text with line breaks kept (a configuration, a log excerpt).
        case preformatted(String)

        /// A figure of `raster`, encoded as PNG.
        public static func figure(_ raster: Raster, caption: String) throws -> Block {
            .figure(png: try raster.pngData(), caption: caption)
        }
    }

    /// A heading and the blocks under it.
    public struct Section: Sendable {
        /// The section heading.
        public var heading: String
        /// The content, in order.
        public var blocks: [Block]

        /// A section with `heading` and `blocks`.
        public init(_ heading: String, _ blocks: [Block] = []) {
            self.heading = heading
            self.blocks = blocks
        }
    }

    /// Page title, also the top heading.
    public var title: String
    /// Optional text under the title.
    public var summary: String
    /// Metrics shown in a table under the summary (the table is left out when empty).
    public var metrics: [Metric]
    /// The sections, in order.
    public var sections: [Section]

    /// A report with `title` and nothing else yet.
    public init(title: String, summary: String = "", metrics: [Metric] = [], sections: [Section] = []) {
        self.title = title
        self.summary = summary
        self.metrics = metrics
        self.sections = sections
    }

    /// Appends a section.
    public mutating func addSection(_ heading: String, _ blocks: [Block]) {
        sections.append(Section(heading, blocks))
    }

    /// The page as HTML text.
    public func html() -> String {
        var page = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(Self.escape(title))</title>
        <style>\(Self.style)</style>
        </head>
        <body>
        <h1>\(Self.escape(title))</h1>

        """
        if !summary.isEmpty { page += "<p class=\"summary\">\(Self.escape(summary))</p>\n" }
        if !metrics.isEmpty { page += Self.metricsTable(metrics) }
        for section in sections {
            page += "<section>\n<h2>\(Self.escape(section.heading))</h2>\n"
            for block in section.blocks { page += Self.html(block) }
            page += "</section>\n"
        }
        page += "</body>\n</html>\n"
        return page
    }

    /// Writes the page as UTF-8, atomically replacing `url`.
    public func write(to url: URL) throws {
        try AtomicFile.write(Array(html().utf8), to: url)
    }

    /// `text` with `& < > " '` replaced by character references, safe in element content and quoted attributes.
    public static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    private static func html(_ block: Block) -> String {
        switch block {
        case .paragraph(let text):
            return "<p>\(escape(text))</p>\n"
        case .figure(let png, let caption):
            let source = "data:image/png;base64," + Data(png).base64EncodedString()
            return "<figure><img src=\"\(source)\" alt=\"\(escape(caption))\">"
                + "<figcaption>\(escape(caption))</figcaption></figure>\n"
        case .metrics(let metrics):
            return metricsTable(metrics)
        case .table(let header, let rows):
            let headings = header.map { "<th>\(escape($0))</th>" }.joined()
            var table = "<table>\n<thead><tr>" + headings + "</tr></thead>\n<tbody>\n"
            for row in rows { table += "<tr>" + row.map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n" }
            return table + "</tbody>\n</table>\n"
        case .preformatted(let text):
            return "<pre>\(escape(text))</pre>\n"
        }
    }

    private static func metricsTable(_ metrics: [Metric]) -> String {
        var table = "<table class=\"metrics\">\n<tbody>\n"
        for metric in metrics {
            table += "<tr><th>\(escape(metric.name))</th><td>\(escape(metric.value))</td></tr>\n"
        }
        return table + "</tbody>\n</table>\n"
    }

    private static let style = """
        body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 1100px; \
        margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
        h1 { font-size: 1.6em; border-bottom: 1px solid #ccc; padding-bottom: .3em; }
        h2 { font-size: 1.25em; margin-top: 2em; }
        .summary { color: #555; }
        table { border-collapse: collapse; margin: 1em 0; font-variant-numeric: tabular-nums; }
        th, td { border: 1px solid #ddd; padding: .3em .8em; text-align: left; }
        td { text-align: right; }
        thead th { background: #f3f3f3; }
        table.metrics th { background: #fafafa; font-weight: 600; }
        figure { display: inline-block; margin: 1em 1.5em 1em 0; vertical-align: top; }
        figure img { max-width: 100%; image-rendering: pixelated; border: 1px solid #eee; }
        figcaption { font-size: .9em; color: #555; margin-top: .3em; }
        pre { background: #f6f6f6; padding: .8em; overflow-x: auto; }
        """
}
