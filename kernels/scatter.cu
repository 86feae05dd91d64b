// Batched strided copies: scatter decoded chunks into an output, gather chunks into an arena,
// transpose a chunk (a gather with permuted source strides), and plain batched memcpy.
//
// One descriptor = one N-d region (up to 8 dims) copied element by element from src + sum(c*src_stride)
// to dst + sum(c*dst_stride), c running over `shape` in C order. Addresses are absolute device
// pointers; strides are in bytes and may be negative or zero (broadcast sources).

#define CUZARR_MAX_DIMS 8

struct StridedDesc {
    unsigned long long src;
    unsigned long long dst;
    long long nelems;
    int ndim;
    int itemsize;
    long long shape[CUZARR_MAX_DIMS];
    long long src_strides[CUZARR_MAX_DIMS];
    long long dst_strides[CUZARR_MAX_DIMS];
};

struct CopyDesc {
    unsigned long long src;
    unsigned long long dst;
    long long nbytes;
    long long pad;
};

__device__ __forceinline__ void copy_item(const unsigned char* s, unsigned char* d, int isz, bool aligned) {
    if (aligned) {
        switch (isz) {
            case 1: *d = *s; return;
            case 2: *(unsigned short*)d = *(const unsigned short*)s; return;
            case 4: *(unsigned int*)d = *(const unsigned int*)s; return;
            case 8: *(unsigned long long*)d = *(const unsigned long long*)s; return;
            case 16: *(uint4*)d = *(const uint4*)s; return;
            default: break;
        }
    }
    for (int k = 0; k < isz; ++k) d[k] = s[k];
}

extern "C" __global__ void copy_strided(const StridedDesc* descs, long long ndesc) {
    for (long long d = blockIdx.y; d < ndesc; d += gridDim.y) {
        const StridedDesc* s = descs + d;
        const int nd = s->ndim;
        const int isz = s->itemsize;
        bool aligned = (isz == 1 || isz == 2 || isz == 4 || isz == 8 || isz == 16) &&
                       (s->src % (unsigned long long)isz) == 0 && (s->dst % (unsigned long long)isz) == 0;
        long long shape[CUZARR_MAX_DIMS], ss[CUZARR_MAX_DIMS], ds[CUZARR_MAX_DIMS];
        for (int k = 0; k < nd; ++k) {
            shape[k] = s->shape[k];
            ss[k] = s->src_strides[k];
            ds[k] = s->dst_strides[k];
            aligned = aligned && (ss[k] % isz) == 0 && (ds[k] % isz) == 0;
        }
        const unsigned char* src = (const unsigned char*)s->src;
        unsigned char* dst = (unsigned char*)s->dst;
        const long long n = s->nelems;
        const long long step = (long long)gridDim.x * blockDim.x;
        for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) {
            long long rem = i, so = 0, dof = 0;
            for (int k = nd - 1; k >= 0; --k) {
                const long long c = rem % shape[k];
                rem /= shape[k];
                so += c * ss[k];
                dof += c * ds[k];
            }
            copy_item(src + so, dst + dof, isz, aligned);
        }
    }
}

extern "C" __global__ void batch_memcpy(const CopyDesc* descs, long long ndesc) {
    for (long long d = blockIdx.y; d < ndesc; d += gridDim.y) {
        const CopyDesc c = descs[d];
        const unsigned char* src = (const unsigned char*)c.src;
        unsigned char* dst = (unsigned char*)c.dst;
        const long long start = (long long)blockIdx.x * blockDim.x + threadIdx.x;
        const long long step = (long long)gridDim.x * blockDim.x;
        long long done = 0;
        if (((c.src | c.dst) & 15ull) == 0) {
            const long long nvec = c.nbytes / 16;
            for (long long i = start; i < nvec; i += step) ((uint4*)dst)[i] = ((const uint4*)src)[i];
            done = nvec * 16;
        }
        for (long long i = done + start; i < c.nbytes; i += step) dst[i] = src[i];
    }
}
