// The library product: one import gives the compute engine, the layers and the autoencoders.
@_exported import Autoencoders
@_exported import Compute
@_exported import Layers
