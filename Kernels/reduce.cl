// Reductions (sum, sum of squares, sum of absolute values, max) over rows, columns or everything, and row gathers.
//
// Each work item folds a strided run of elements (Kahan-compensated for sums), then a work group combines its
// items' values in a tree in local memory, so long reductions stay accurate and every call gives the same bits.

// Codes of `ReductionOp` in Sources/Compute/Primitives/Reduction.swift.
#define OP_SUM 0
#define OP_SUM_OF_SQUARES 1
#define OP_SUM_OF_ABS 2
#define OP_MAX 3

#define RED_GROUP 256
#define COL_TILE 16
#define ROW_LANES 16

static inline float red_map(float v, int op) {
    return op == OP_SUM_OF_SQUARES ? v * v : (op == OP_SUM_OF_ABS ? fabs(v) : v);
}

static inline float red_combine(float a, float b, int op) {
    return op == OP_MAX ? (b > a ? b : a) : a + b;
}

// Folds op(x[i]) for i = start, start + stride, ... < n: a running max, or a Kahan-compensated sum
// (the compensation is dropped once the sum is infinite, so infinities propagate as they would unaided).
static inline float red_strided(__global const float* x, int start, int n, int stride, int op) {
    if (op == OP_MAX) {
        float m = -INFINITY;
        for (int i = start; i < n; i += stride) { float v = x[i]; m = v > m ? v : m; }
        return m;
    }
    float s = 0.0f, c = 0.0f;
    for (int i = start; i < n; i += stride) {
        float v = red_map(x[i], op) - c;
        float t = s + v;
        c = isfinite(t) ? (t - s) - v : 0.0f;
        s = t;
    }
    return s;
}

// Tree-combines one value per item of a 1-D work group of RED_GROUP items; the result is returned to item 0.
static inline float red_group(__local float* scratch, float v, int op) {
    const int lid = get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int width = RED_GROUP / 2; width > 0; width >>= 1) {
        if (lid < width) scratch[lid] = red_combine(scratch[lid], scratch[lid + width], op);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return scratch[0];
}

// y = scale * r, added to y for the sums when accumulate.
static inline void red_store(__global float* y, int i, float r, int op, float scale, int accumulate) {
    float v = scale * r;
    y[i] = (accumulate && op != OP_MAX) ? y[i] + v : v;
}

// y[col] = scale * reduce_i op(x[i, col]). global = (cols, ROW_LANES), local = (COL_TILE, ROW_LANES):
// adjacent items read adjacent columns; ROW_LANES items share each column and are combined in local memory.
__kernel void reduce_rows(__global const float* x, const int x_off, __global float* y, const int y_off,
                          const int rows, const int cols, const int op, const float scale, const int accumulate) {
    __local float scratch[ROW_LANES][COL_TILE];
    const int col = get_global_id(0), lc = get_local_id(0), lane = get_local_id(1);
    scratch[lane][lc] = col < cols ? red_strided(x + x_off, lane * cols + col, rows * cols, ROW_LANES * cols, op)
                                   : 0.0f;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int width = ROW_LANES / 2; width > 0; width >>= 1) {
        if (lane < width) scratch[lane][lc] = red_combine(scratch[lane][lc], scratch[lane + width][lc], op);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lane == 0 && col < cols) red_store(y + y_off, col, scratch[0][lc], op, scale, accumulate);
}

// y[row] = scale * reduce_j op(x[row, j]). One work group per row: global = (RED_GROUP, rows), local = (RED_GROUP, 1).
__kernel void reduce_columns(__global const float* x, const int x_off, __global float* y, const int y_off,
                             const int rows, const int cols, const int op, const float scale, const int accumulate) {
    __local float scratch[RED_GROUP];
    const int row = get_group_id(1);
    float v = red_strided(x + x_off + row * cols, get_local_id(0), cols, RED_GROUP, op);
    float r = red_group(scratch, v, op);
    if (get_local_id(0) == 0) red_store(y + y_off, row, r, op, scale, accumulate);
}

// First pass of a whole reduction: partials[g] = reduce of op(x[i]) over a grid-strided share of the n elements,
// one per work group. global = (groups * RED_GROUP), local = (RED_GROUP).
__kernel void reduce_all_partials(__global const float* x, const int x_off, __global float* partials, const int p_off,
                                  const int n, const int op) {
    __local float scratch[RED_GROUP];
    float v = red_strided(x + x_off, get_global_id(0), n, get_global_size(0), op);
    float r = red_group(scratch, v, op);
    if (get_local_id(0) == 0) partials[p_off + get_group_id(0)] = r;
}

// Whole reduction by one work group: y[0] = scale * reduce op(x[i]) over n elements (the partials of the first
// pass, with op = OP_SUM or OP_MAX, or a short input directly). global = local = (RED_GROUP).
__kernel void reduce_all_final(__global const float* x, const int x_off, __global float* y, const int y_off,
                               const int n, const int op, const float scale, const int accumulate) {
    __local float scratch[RED_GROUP];
    float v = red_strided(x + x_off, get_local_id(0), n, RED_GROUP, op);
    float r = red_group(scratch, v, op);
    if (get_local_id(0) == 0) red_store(y + y_off, 0, r, op, scale, accumulate);
}

// A training step's epoch sums: y[r] += sum_j x[r, j] for rows r < rows (at most 4) and total[0] += sum_r w_r *
// sum_j x[r, j], with the weights w0..w3. One work group: global = local = (RED_GROUP).
__kernel void accumulate_row_sums(__global const float* x, const int x_off, __global float* y, const int y_off,
                                  __global float* total, const int total_off, const int rows, const int cols,
                                  const float w0, const float w1, const float w2, const float w3) {
    __local float scratch[RED_GROUP];
    const float w[4] = {w0, w1, w2, w3};
    float weighted = 0.0f;
    for (int r = 0; r < rows; r++) {
        const float s = red_group(scratch, red_strided(x + x_off + r * cols, get_local_id(0), cols, RED_GROUP, OP_SUM), OP_SUM);
        if (get_local_id(0) == 0) {
            y[y_off + r] += s;
            weighted += w[r] * s;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (get_local_id(0) == 0) total[total_off] += weighted;
}

// y[i, :] = x[indices[i], :] for a source of src_rows rows; a row whose index is out of range is zeroed.
// One work item per output element: global = (out_rows * cols).
__kernel void gather_rows(__global const float* x, const int x_off, __global const int* indices, const int indices_off,
                          __global float* y, const int y_off, const int src_rows, const int cols, const int out_rows) {
    const int gid = get_global_id(0);
    if (gid >= out_rows * cols) return;
    const int i = gid / cols, j = gid - i * cols;
    const int s = indices[indices_off + i];
    y[y_off + gid] = (s >= 0 && s < src_rows) ? x[x_off + s * cols + j] : 0.0f;
}

// Converting gathers: y[i, :] = convert(x[indices[i], :]) * scale + shift for a source of src_rows rows stored as
// uchar, half (read with vload_half: core OpenCL 1.2, no cl_khr_fp16) or float; a row whose index is out of range
// is zeroed. One work item per output element: global = (out_rows * cols). The source index is formed in 64 bits
// (a byte source may pass 2^31 elements; its view's offset x_off must still fit an int).

// v * scale + shift with the product and the sum rounded separately, as on the CPU backend: OpenCL C contracts
// a * b + c into one FMA by default, which would give other bits.
static inline float gather_affine(float v, float scale, float shift) {
#pragma OPENCL FP_CONTRACT OFF
    return v * scale + shift;
}

__kernel void gather_rows_convert_u8(__global const uchar* x, const int x_off, __global const int* indices,
                                     const int indices_off, __global float* y, const int y_off, const int src_rows,
                                     const int cols, const int out_rows, const float scale, const float shift) {
    const int gid = get_global_id(0);
    if (gid >= out_rows * cols) return;
    const int i = gid / cols, j = gid - i * cols;
    const int s = indices[indices_off + i];
    y[y_off + gid] = (s >= 0 && s < src_rows)
        ? gather_affine(convert_float(x[x_off + (long)s * cols + j]), scale, shift) : 0.0f;
}

__kernel void gather_rows_convert_f16(__global const half* x, const int x_off, __global const int* indices,
                                      const int indices_off, __global float* y, const int y_off, const int src_rows,
                                      const int cols, const int out_rows, const float scale, const float shift) {
    const int gid = get_global_id(0);
    if (gid >= out_rows * cols) return;
    const int i = gid / cols, j = gid - i * cols;
    const int s = indices[indices_off + i];
    y[y_off + gid] = (s >= 0 && s < src_rows)
        ? gather_affine(vload_half((size_t)(x_off + (long)s * cols + j), x), scale, shift) : 0.0f;
}

__kernel void gather_rows_convert_f32(__global const float* x, const int x_off, __global const int* indices,
                                      const int indices_off, __global float* y, const int y_off, const int src_rows,
                                      const int cols, const int out_rows, const float scale, const float shift) {
    const int gid = get_global_id(0);
    if (gid >= out_rows * cols) return;
    const int i = gid / cols, j = gid - i * cols;
    const int s = indices[indices_off + i];
    y[y_off + gid] = (s >= 0 && s < src_rows) ? gather_affine(x[x_off + (long)s * cols + j], scale, shift) : 0.0f;
}
