/* Test support: preloaded into the real daemon (LD_PRELOAD), it moves the process's wall clock by
 * the number of seconds written in the file named by SAFETYNET_WALL_CLOCK_SHIFT_FILE, read again at
 * every reading, as an NTP step or a resumed VM moves it. Only the wall clock: the monotonic clock,
 * and so every timer and timeout, is the kernel's.
 *
 * Why not Debian's libfaketime (which the clock-step test used first): it also rewrites
 * timerfd_settime's absolute times by the offset, though it cannot know the timer's clock. Asio arms
 * its CLOCK_MONOTONIC timerfd with an absolute 1 ns when a timer is already due; a day back, that
 * became "a day minus the uptime" away (a timerfd armed so under libfaketime with "-1d" did not
 * fire), every timer of the daemon stopped (its tick, its shutdown grace) and the test hung on a
 * machine up for less than a day.
 *
 * Plain C, no sanitizer: it runs before any runtime is set up. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static long shift_seconds(void) {
  const char* path = getenv("SAFETYNET_WALL_CLOCK_SHIFT_FILE");
  if (!path) return 0;
  int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[32];
  long n = (long)syscall(SYS_read, fd, buf, sizeof buf - 1);
  syscall(SYS_close, fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  return strtol(buf, NULL, 10);
}

static int is_wall_clock(clockid_t id) {
  return id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE || id == CLOCK_TAI;
}

int clock_gettime(clockid_t id, struct timespec* ts) {
  int rc = (int)syscall(SYS_clock_gettime, id, ts);
  if (rc == 0 && is_wall_clock(id)) ts->tv_sec += shift_seconds();
  return rc;
}

/* glibc declares tv nonnull, yet a program may still pass NULL (POSIX leaves it unspecified, the
 * kernel call accepts it): the check keeps such a program from crashing under the test. Read
 * through a volatile so that no compiler drops the check on the strength of that declaration. */
int gettimeofday(struct timeval* restrict tv, void* restrict tz) {
  (void)tz;
  struct timeval* volatile out = tv;
  struct timespec ts;
  int rc = clock_gettime(CLOCK_REALTIME, &ts);
  if (rc == 0 && out) {
    out->tv_sec = ts.tv_sec;
    out->tv_usec = ts.tv_nsec / 1000;
  }
  return rc;
}

time_t time(time_t* out) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (out) *out = ts.tv_sec;
  return ts.tv_sec;
}
