// Just enough of CUDA's device-side C++ for kernels/*.cu to compile and run on the host, so the
// CPU suite runs the kernel source itself (not only its NumPy reference). A launch runs the grid's
// blocks one after another; a kernel that calls __syncthreads() gets one std::thread per CUDA
// thread of the block, meeting at a std::barrier; the others run their threads in a loop, which
// is one of the orders a GPU may run them in. __shared__ variables become function statics:
// shared by the threads of the one block that runs at a time.
#pragma once
#include <barrier>
#include <thread>
#include <type_traits>
#include <vector>

struct dim3 {
    unsigned int x = 1, y = 1, z = 1;
};
struct uint4 {
    unsigned int x, y, z, w;
};

inline thread_local dim3 threadIdx, blockIdx;
inline dim3 blockDim, gridDim;
inline thread_local std::barrier<>* cuzarr_block_barrier = nullptr;

#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__
#define __shared__ static

inline void __syncthreads() {
    if (cuzarr_block_barrier) cuzarr_block_barrier->arrive_and_wait();
}

// CUDA's __byte_perm: byte i of the result is byte (selector nibble i & 7) of the 8 bytes {y:x}.
inline unsigned int __byte_perm(unsigned int x, unsigned int y, unsigned int s) {
    const unsigned long long both = ((unsigned long long)y << 32) | x;
    unsigned int out = 0;
    for (int i = 0; i < 4; ++i) {
        const unsigned int pick = (s >> (4 * i)) & 7u;
        out |= (unsigned int)((both >> (8 * pick)) & 0xffu) << (8 * i);
    }
    return out;
}

template <class... A>
void cuzarr_launch(void (*kernel)(A...), dim3 grid, dim3 block, bool block_sync,
                   std::type_identity_t<A>... args) {
    gridDim = grid;
    blockDim = block;
    for (unsigned int bz = 0; bz < grid.z; ++bz)
        for (unsigned int by = 0; by < grid.y; ++by)
            for (unsigned int bx = 0; bx < grid.x; ++bx) {
                const dim3 b{bx, by, bz};
                if (!block_sync) {
                    blockIdx = b;
                    for (unsigned int tz = 0; tz < block.z; ++tz)
                        for (unsigned int ty = 0; ty < block.y; ++ty)
                            for (unsigned int tx = 0; tx < block.x; ++tx) {
                                threadIdx = dim3{tx, ty, tz};
                                kernel(args...);
                            }
                    continue;
                }
                const unsigned int n = block.x * block.y * block.z;
                std::barrier<> barrier((std::ptrdiff_t)n);
                std::vector<std::thread> threads;
                threads.reserve(n);
                for (unsigned int t = 0; t < n; ++t) {
                    threads.emplace_back([&, t] {
                        blockIdx = b;
                        threadIdx = dim3{t % block.x, (t / block.x) % block.y, t / (block.x * block.y)};
                        cuzarr_block_barrier = &barrier;
                        kernel(args...);
                        barrier.arrive_and_drop();  // a finished thread no longer holds the others back
                    });
                }
                for (auto& thread : threads) thread.join();
            }
}
