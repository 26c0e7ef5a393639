#include "copencl.h"
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AEK_FUNCTIONS(X) \
    X(clGetPlatformIDs) X(clGetPlatformInfo) X(clGetDeviceIDs) X(clGetDeviceInfo) \
    X(clCreateContext) X(clReleaseContext) X(clCreateCommandQueue) X(clReleaseCommandQueue) \
    X(clCreateBuffer) X(clReleaseMemObject) X(clEnqueueWriteBuffer) X(clEnqueueReadBuffer) \
    X(clEnqueueCopyBuffer) X(clCreateProgramWithSource) X(clCreateProgramWithBinary) \
    X(clBuildProgram) X(clGetProgramBuildInfo) X(clGetProgramInfo) X(clReleaseProgram) \
    X(clCreateKernel) X(clReleaseKernel) X(clSetKernelArg) X(clEnqueueNDRangeKernel) \
    X(clFinish) X(clFlush)

#define AEK_DECLARE(name) static __typeof__(&name) p_##name = NULL;
AEK_FUNCTIONS(AEK_DECLARE)

static int loaded = 0;

int aek_cl_load(char *error, unsigned long capacity) {
    if (loaded) return 0;
    const char *path = getenv("AUTOENCODERKIT_OPENCL_LIBRARY");
    void *handle = dlopen(path && *path ? path : "libOpenCL.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!handle && !(path && *path)) handle = dlopen("libOpenCL.so", RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        snprintf(error, capacity, "cannot load the OpenCL library: %s", dlerror());
        return 1;
    }
#define AEK_RESOLVE(name) \
    p_##name = (__typeof__(&name))dlsym(handle, #name); \
    if (!p_##name) { snprintf(error, capacity, "the OpenCL library lacks %s", #name); return 1; }
    AEK_FUNCTIONS(AEK_RESOLVE)
    loaded = 1;
    return 0;
}

#define AEK_GUARD(name, fallback) if (!p_##name) return fallback;
#define AEK_GUARD_OBJ(name) if (!p_##name) { if (errcode_ret) *errcode_ret = CL_DEVICE_NOT_AVAILABLE; return NULL; }

cl_int aek_clGetPlatformIDs(cl_uint n, cl_platform_id *p, cl_uint *np) {
    AEK_GUARD(clGetPlatformIDs, CL_DEVICE_NOT_AVAILABLE) return p_clGetPlatformIDs(n, p, np);
}
cl_int aek_clGetPlatformInfo(cl_platform_id p, cl_platform_info name, size_t size, void *value, size_t *ret) {
    AEK_GUARD(clGetPlatformInfo, CL_DEVICE_NOT_AVAILABLE) return p_clGetPlatformInfo(p, name, size, value, ret);
}
cl_int aek_clGetDeviceIDs(cl_platform_id p, cl_device_type t, cl_uint n, cl_device_id *d, cl_uint *nd) {
    AEK_GUARD(clGetDeviceIDs, CL_DEVICE_NOT_AVAILABLE) return p_clGetDeviceIDs(p, t, n, d, nd);
}
cl_int aek_clGetDeviceInfo(cl_device_id d, cl_device_info name, size_t size, void *value, size_t *ret) {
    AEK_GUARD(clGetDeviceInfo, CL_DEVICE_NOT_AVAILABLE) return p_clGetDeviceInfo(d, name, size, value, ret);
}
cl_context aek_clCreateContext(cl_device_id device, cl_int *errcode_ret) {
    AEK_GUARD_OBJ(clCreateContext) return p_clCreateContext(NULL, 1, &device, NULL, NULL, errcode_ret);
}
cl_int aek_clReleaseContext(cl_context c) { AEK_GUARD(clReleaseContext, CL_DEVICE_NOT_AVAILABLE) return p_clReleaseContext(c); }
cl_command_queue aek_clCreateCommandQueue(cl_context c, cl_device_id d, cl_command_queue_properties props, cl_int *errcode_ret) {
    AEK_GUARD_OBJ(clCreateCommandQueue) return p_clCreateCommandQueue(c, d, props, errcode_ret);
}
cl_int aek_clReleaseCommandQueue(cl_command_queue q) { AEK_GUARD(clReleaseCommandQueue, CL_DEVICE_NOT_AVAILABLE) return p_clReleaseCommandQueue(q); }
cl_mem aek_clCreateBuffer(cl_context c, cl_mem_flags flags, size_t size, void *host, cl_int *errcode_ret) {
    AEK_GUARD_OBJ(clCreateBuffer) return p_clCreateBuffer(c, flags, size, host, errcode_ret);
}
cl_int aek_clReleaseMemObject(cl_mem m) { AEK_GUARD(clReleaseMemObject, CL_DEVICE_NOT_AVAILABLE) return p_clReleaseMemObject(m); }
cl_int aek_clEnqueueWriteBuffer(cl_command_queue q, cl_mem b, cl_bool blocking, size_t offset, size_t size, const void *ptr) {
    AEK_GUARD(clEnqueueWriteBuffer, CL_DEVICE_NOT_AVAILABLE) return p_clEnqueueWriteBuffer(q, b, blocking, offset, size, ptr, 0, NULL, NULL);
}
cl_int aek_clEnqueueReadBuffer(cl_command_queue q, cl_mem b, cl_bool blocking, size_t offset, size_t size, void *ptr) {
    AEK_GUARD(clEnqueueReadBuffer, CL_DEVICE_NOT_AVAILABLE) return p_clEnqueueReadBuffer(q, b, blocking, offset, size, ptr, 0, NULL, NULL);
}
cl_int aek_clEnqueueCopyBuffer(cl_command_queue q, cl_mem s, cl_mem d, size_t so, size_t dof, size_t size) {
    AEK_GUARD(clEnqueueCopyBuffer, CL_DEVICE_NOT_AVAILABLE) return p_clEnqueueCopyBuffer(q, s, d, so, dof, size, 0, NULL, NULL);
}
cl_program aek_clCreateProgramWithSource(cl_context c, const char *source, cl_int *errcode_ret) {
    AEK_GUARD_OBJ(clCreateProgramWithSource) return p_clCreateProgramWithSource(c, 1, &source, NULL, errcode_ret);
}
cl_program aek_clCreateProgramWithBinary(cl_context c, cl_device_id d, size_t length, const unsigned char *binary, cl_int *errcode_ret) {
    AEK_GUARD_OBJ(clCreateProgramWithBinary)
    cl_int status = CL_SUCCESS;
    cl_program p = p_clCreateProgramWithBinary(c, 1, &d, &length, &binary, &status, errcode_ret);
    if (p && status != CL_SUCCESS) { if (errcode_ret) *errcode_ret = status; }
    return p;
}
cl_int aek_clBuildProgram(cl_program p, cl_device_id d, const char *options) {
    AEK_GUARD(clBuildProgram, CL_DEVICE_NOT_AVAILABLE) return p_clBuildProgram(p, 1, &d, options, NULL, NULL);
}
cl_int aek_clGetProgramBuildInfo(cl_program p, cl_device_id d, cl_program_build_info name, size_t size, void *value, size_t *ret) {
    AEK_GUARD(clGetProgramBuildInfo, CL_DEVICE_NOT_AVAILABLE) return p_clGetProgramBuildInfo(p, d, name, size, value, ret);
}
cl_int aek_clGetProgramBinary(cl_program p, unsigned char *binary, size_t capacity, size_t *size_ret) {
    AEK_GUARD(clGetProgramInfo, CL_DEVICE_NOT_AVAILABLE)
    size_t size = 0;
    cl_int err = p_clGetProgramInfo(p, CL_PROGRAM_BINARY_SIZES, sizeof(size), &size, NULL);
    if (err != CL_SUCCESS) return err;
    if (size_ret) *size_ret = size;
    if (!binary) return CL_SUCCESS;
    if (capacity < size) return CL_INVALID_VALUE;
    unsigned char *ptrs[1] = { binary };
    return p_clGetProgramInfo(p, CL_PROGRAM_BINARIES, sizeof(ptrs), ptrs, NULL);
}
cl_int aek_clReleaseProgram(cl_program p) { AEK_GUARD(clReleaseProgram, CL_DEVICE_NOT_AVAILABLE) return p_clReleaseProgram(p); }
cl_kernel aek_clCreateKernel(cl_program p, const char *name, cl_int *errcode_ret) {
    AEK_GUARD_OBJ(clCreateKernel) return p_clCreateKernel(p, name, errcode_ret);
}
cl_int aek_clReleaseKernel(cl_kernel k) { AEK_GUARD(clReleaseKernel, CL_DEVICE_NOT_AVAILABLE) return p_clReleaseKernel(k); }
cl_int aek_clSetKernelArg(cl_kernel k, cl_uint i, size_t size, const void *value) {
    AEK_GUARD(clSetKernelArg, CL_DEVICE_NOT_AVAILABLE) return p_clSetKernelArg(k, i, size, value);
}
cl_int aek_clEnqueueNDRangeKernel(cl_command_queue q, cl_kernel k, cl_uint dims, const size_t *global, const size_t *local) {
    AEK_GUARD(clEnqueueNDRangeKernel, CL_DEVICE_NOT_AVAILABLE) return p_clEnqueueNDRangeKernel(q, k, dims, NULL, global, local, 0, NULL, NULL);
}
cl_int aek_clFinish(cl_command_queue q) { AEK_GUARD(clFinish, CL_DEVICE_NOT_AVAILABLE) return p_clFinish(q); }
cl_int aek_clFlush(cl_command_queue q) { AEK_GUARD(clFlush, CL_DEVICE_NOT_AVAILABLE) return p_clFlush(q); }
