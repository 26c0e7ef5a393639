// OpenCL entry points resolved with dlopen/dlsym at run time.
//
// The binaries never link libOpenCL: `aek_cl_load` opens libOpenCL.so.1 (or the path in
// AUTOENCODERKIT_OPENCL_LIBRARY) and resolves every function below. When it returns non-zero,
// OpenCL is unavailable and callers must stay on the CPU backend; calling a wrapper then returns
// CL_DEVICE_NOT_AVAILABLE (or NULL with that error code).
#ifndef AEK_COPENCL_H
#define AEK_COPENCL_H

#define CL_TARGET_OPENCL_VERSION 120
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>

/// Loads the OpenCL ICD loader. Returns 0 on success; on failure writes a message into `error`.
int aek_cl_load(char *error, unsigned long errorCapacity);

cl_int aek_clGetPlatformIDs(cl_uint num_entries, cl_platform_id *platforms, cl_uint *num_platforms);
cl_int aek_clGetPlatformInfo(cl_platform_id platform, cl_platform_info name, size_t size, void *value, size_t *size_ret);
cl_int aek_clGetDeviceIDs(cl_platform_id platform, cl_device_type type, cl_uint num_entries, cl_device_id *devices, cl_uint *num_devices);
cl_int aek_clGetDeviceInfo(cl_device_id device, cl_device_info name, size_t size, void *value, size_t *size_ret);
cl_context aek_clCreateContext(cl_device_id device, cl_int *errcode_ret);
cl_int aek_clReleaseContext(cl_context context);
cl_command_queue aek_clCreateCommandQueue(cl_context context, cl_device_id device, cl_command_queue_properties properties, cl_int *errcode_ret);
cl_int aek_clReleaseCommandQueue(cl_command_queue queue);
cl_mem aek_clCreateBuffer(cl_context context, cl_mem_flags flags, size_t size, void *host_ptr, cl_int *errcode_ret);
cl_int aek_clReleaseMemObject(cl_mem mem);
cl_int aek_clEnqueueWriteBuffer(cl_command_queue queue, cl_mem buffer, cl_bool blocking, size_t offset, size_t size, const void *ptr);
cl_int aek_clEnqueueReadBuffer(cl_command_queue queue, cl_mem buffer, cl_bool blocking, size_t offset, size_t size, void *ptr);
cl_int aek_clEnqueueCopyBuffer(cl_command_queue queue, cl_mem src, cl_mem dst, size_t src_offset, size_t dst_offset, size_t size);
cl_program aek_clCreateProgramWithSource(cl_context context, const char *source, cl_int *errcode_ret);
cl_program aek_clCreateProgramWithBinary(cl_context context, cl_device_id device, size_t length, const unsigned char *binary, cl_int *errcode_ret);
cl_int aek_clBuildProgram(cl_program program, cl_device_id device, const char *options);
cl_int aek_clGetProgramBuildInfo(cl_program program, cl_device_id device, cl_program_build_info name, size_t size, void *value, size_t *size_ret);
/// Copies the program binary for its single device into `binary` (capacity `capacity`); `size_ret` gets the size.
cl_int aek_clGetProgramBinary(cl_program program, unsigned char *binary, size_t capacity, size_t *size_ret);
cl_int aek_clReleaseProgram(cl_program program);
cl_kernel aek_clCreateKernel(cl_program program, const char *name, cl_int *errcode_ret);
cl_int aek_clReleaseKernel(cl_kernel kernel);
cl_int aek_clSetKernelArg(cl_kernel kernel, cl_uint index, size_t size, const void *value);
cl_int aek_clEnqueueNDRangeKernel(cl_command_queue queue, cl_kernel kernel, cl_uint dims, const size_t *global, const size_t *local);
cl_int aek_clFinish(cl_command_queue queue);
cl_int aek_clFlush(cl_command_queue queue);

#endif
