// In-place byte order reversal of 2-, 4- or 8-byte items over a batch of regions.

struct SwapDesc {
    unsigned long long addr;
    long long nitems;
    long long itemsize;
    long long pad;
};

extern "C" __global__ void byteswap(const SwapDesc* descs, long long ndesc) {
    for (long long d = blockIdx.y; d < ndesc; d += gridDim.y) {
        const SwapDesc s = descs[d];
        unsigned char* base = (unsigned char*)s.addr;
        const long long isz = s.itemsize;
        const bool aligned = (s.addr % (unsigned long long)isz) == 0;
        const long long step = (long long)gridDim.x * blockDim.x;
        for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < s.nitems; i += step) {
            unsigned char* p = base + i * isz;
            if (aligned && isz == 2) {
                unsigned short v = *(unsigned short*)p;
                *(unsigned short*)p = (unsigned short)((v >> 8) | (v << 8));
            } else if (aligned && isz == 4) {
                *(unsigned int*)p = __byte_perm(*(unsigned int*)p, 0, 0x0123);
            } else if (aligned && isz == 8) {
                unsigned long long v = *(unsigned long long*)p;
                unsigned int lo = __byte_perm((unsigned int)v, 0, 0x0123);
                unsigned int hi = __byte_perm((unsigned int)(v >> 32), 0, 0x0123);
                *(unsigned long long*)p = ((unsigned long long)lo << 32) | hi;
            } else {
                for (long long a = 0, b = isz - 1; a < b; ++a, --b) {
                    unsigned char t = p[a];
                    p[a] = p[b];
                    p[b] = t;
                }
            }
        }
    }
}
