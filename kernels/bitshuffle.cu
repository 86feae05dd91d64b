// Blosc bit shuffle / unshuffle over a batch of blocks (one descriptor per blosc block).
//
// blosc_format.md section 7: a block of b bytes holds n = b / typesize elements. When b < typesize
// or n % 8 != 0 the whole block is stored unfiltered. Otherwise the first n*typesize bytes are
// 8*typesize bit-planes of n/8 bytes each: plane 8*j + k holds bit k of byte j of every element,
// element i at bit (i % 8) of byte (i / 8); the tail bytes follow unchanged.

struct BlockDesc {
    unsigned long long src;
    unsigned long long dst;
    long long nbytes;
    long long typesize;
};

__device__ __forceinline__ bool bit_filtered(long long nbytes, long long ts) {
    return nbytes >= ts && ((nbytes / ts) % 8) == 0;
}

extern "C" __global__ void bit_unshuffle(const BlockDesc* descs, long long ndesc) {
    for (long long d = blockIdx.y; d < ndesc; d += gridDim.y) {
        const BlockDesc b = descs[d];
        const unsigned char* in = (const unsigned char*)b.src;
        unsigned char* out = (unsigned char*)b.dst;
        const long long ts = b.typesize > 0 ? b.typesize : 1;
        const bool filtered = bit_filtered(b.nbytes, ts);
        const long long n = b.nbytes / ts;
        const long long body = filtered ? n * ts : 0;
        const long long plane = n / 8;
        const long long step = (long long)gridDim.x * blockDim.x;
        for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < b.nbytes; i += step) {
            if (i < body) {
                const long long e = i / ts;
                const long long j = i - e * ts;
                const long long q = e >> 3;
                const int shift = (int)(e & 7);
                unsigned int value = 0;
#pragma unroll
                for (int k = 0; k < 8; ++k) {
                    value |= ((unsigned int)(in[(8 * j + k) * plane + q] >> shift) & 1u) << k;
                }
                out[i] = (unsigned char)value;
            } else {
                out[i] = in[i];
            }
        }
    }
}

extern "C" __global__ void bit_shuffle(const BlockDesc* descs, long long ndesc) {
    for (long long d = blockIdx.y; d < ndesc; d += gridDim.y) {
        const BlockDesc b = descs[d];
        const unsigned char* in = (const unsigned char*)b.src;
        unsigned char* out = (unsigned char*)b.dst;
        const long long ts = b.typesize > 0 ? b.typesize : 1;
        const bool filtered = bit_filtered(b.nbytes, ts);
        const long long n = b.nbytes / ts;
        const long long body = filtered ? n * ts : 0;
        const long long plane = n / 8;
        const long long step = (long long)gridDim.x * blockDim.x;
        for (long long o = (long long)blockIdx.x * blockDim.x + threadIdx.x; o < b.nbytes; o += step) {
            if (o < body) {
                const long long p = o / plane;
                const long long q = o - p * plane;
                const long long j = p >> 3;
                const int k = (int)(p & 7);
                unsigned int value = 0;
#pragma unroll
                for (int bit = 0; bit < 8; ++bit) {
                    value |= ((unsigned int)(in[(8 * q + bit) * ts + j] >> k) & 1u) << bit;
                }
                out[o] = (unsigned char)value;
            } else {
                out[o] = in[o];
            }
        }
    }
}
