/*
 * The one monotonic clock for every deadline, timeout and duration in davit
 * (wall-clock time, json_now_ms, is only for what is shown or stored).
 */
#ifndef DAVIT_CLOCK_H
#define DAVIT_CLOCK_H

/* milliseconds of CLOCK_MONOTONIC: never jumps with the wall clock */
long long	 clock_mono_ms(void);
/* whole seconds of the same clock, for bounds counted in seconds */
long long	 clock_mono_s(void);

#endif
