/* pcaptrace.h — the library API: open a capture source, get decoded packets and TCP
 * stream events through callbacks, run, stop, read statistics. The `pcaptrace` program and
 * examples/ are built on it. (Owned by the capture stage; see core/pcaptrace.c.) */
#ifndef PCAPTRACE_PCAPTRACE_H
#define PCAPTRACE_PCAPTRACE_H

#include "types.h"

#endif
