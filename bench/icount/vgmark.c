/* Callgrind client requests for bench/icount (compiled at run time with the system's cc and
   valgrind's own header): the driver zeroes the counters before a case's batch and dumps them after,
   so each dump holds exactly that batch. Outside valgrind every request is a no-op. */
#include <valgrind/callgrind.h>

void vg_start(void) { CALLGRIND_START_INSTRUMENTATION; }
void vg_zero(void) { CALLGRIND_ZERO_STATS; }
void vg_dump(const char *name) { CALLGRIND_DUMP_STATS_AT(name); }
int vg_running(void) { return RUNNING_ON_VALGRIND; }
