/* bcryptprimitives.dll for wine 8, which lacks it: Rust's standard library
 * imports ProcessPrng from it (random seeds, e.g. for HashMap), so without it
 * no Rust .exe starts under wine. tests/windows.sh builds this into the target
 * dir, beside the .exe files it runs; it is never shipped: Windows 10 and 11
 * have the real DLL. ProcessPrng over RtlGenRandom (advapi32's
 * SystemFunction036), which wine has. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
