// sched_getaffinity and the CPU_*_S macros are GNU extensions of <sched.h>.
#define _GNU_SOURCE
#include "cpu_kernels.h"

#if defined(__linux__)
#include <sched.h>
#include <stdlib.h>

long aek_allowed_processors(void) {
    // grow the mask until it holds every processor the kernel knows (more than 1,024 on the largest hosts)
    for (int processors = 1024; processors <= 1 << 20; processors *= 2) {
        size_t size = CPU_ALLOC_SIZE(processors);
        cpu_set_t *set = CPU_ALLOC(processors);
        if (set == NULL) return 0;
        CPU_ZERO_S(size, set);
        if (sched_getaffinity(0, size, set) == 0) {
            long count = CPU_COUNT_S(size, set);
            CPU_FREE(set);
            return count;
        }
        CPU_FREE(set);
    }
    return 0;
}
#else
long aek_allowed_processors(void) { return 0; }
#endif
