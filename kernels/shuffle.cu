// Blosc byte shuffle / unshuffle over a batch of blocks (one descriptor per blosc block).
//
// Layout (blosc_format.md section 7): with n = nbytes / typesize elements, byte j of element i
// sits at j*n + i in the shuffled form; the nbytes - n*typesize tail bytes are copied as is.
// Grid: blockIdx.y walks descriptors, blockIdx.x/threadIdx.x walk the bytes of one block.

struct BlockDesc {
    unsigned long long src;
    unsigned long long dst;
    long long nbytes;
    long long typesize;
};

extern "C" __global__ void byte_unshuffle(const BlockDesc* descs, long long ndesc) {
    for (long long d = blockIdx.y; d < ndesc; d += gridDim.y) {
        const BlockDesc b = descs[d];
        const unsigned char* in = (const unsigned char*)b.src;
        unsigned char* out = (unsigned char*)b.dst;
        const long long ts = b.typesize > 0 ? b.typesize : 1;
        const long long n = b.nbytes / ts;
        const long long body = n * ts;
        const long long step = (long long)gridDim.x * blockDim.x;
        for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < b.nbytes; i += step) {
            if (i < body) {
                const long long e = i / ts;
                const long long j = i - e * ts;
                out[i] = in[j * n + e];
            } else {
                out[i] = in[i];
            }
        }
    }
}

extern "C" __global__ void byte_shuffle(const BlockDesc* descs, long long ndesc) {
    for (long long d = blockIdx.y; d < ndesc; d += gridDim.y) {
        const BlockDesc b = descs[d];
        const unsigned char* in = (const unsigned char*)b.src;
        unsigned char* out = (unsigned char*)b.dst;
        const long long ts = b.typesize > 0 ? b.typesize : 1;
        const long long n = b.nbytes / ts;
        const long long body = n * ts;
        const long long step = (long long)gridDim.x * blockDim.x;
        for (long long o = (long long)blockIdx.x * blockDim.x + threadIdx.x; o < b.nbytes; o += step) {
            if (o < body) {
                const long long j = o / n;
                const long long e = o - j * n;
                out[o] = in[e * ts + j];
            } else {
                out[o] = in[o];
            }
        }
    }
}
