// Elementwise maps: fill, activations and their gradients, axpby, products, top-k, masks.

__kernel void fill(__global float* y, const int y_off, const int n, const float value) {
    int i = get_global_id(0);
    if (i < n) y[y_off + i] = value;
}
