// The library product: one import gives the compute engine, the layers, the autoencoders and the communicator.
@_exported import Autoencoders
@_exported import Compute
@_exported import Distributed
@_exported import Layers
// The Foundation types in the public signatures (files are URLs, AtomicFile writes Data), so a program that
// imports only AutoencoderKit can call them; the rest of Foundation stays the program's own choice.
@_exported import struct Foundation.URL
@_exported import struct Foundation.Data
