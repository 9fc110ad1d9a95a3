// Threads. The library uses the single OpenMP pool that oneDNN (Debian's build links libgomp) also uses,
// so our loops and oneDNN's never compete with a second pool.
#pragma once

namespace resnet {

int num_threads();
void set_num_threads(int n);  // n <= 0 keeps the default (OMP_NUM_THREADS or all cores)

}  // namespace resnet
