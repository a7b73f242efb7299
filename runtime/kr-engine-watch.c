// SPDX-License-Identifier: MIT
// kr-engine-watch.c: the deadline watchdog that arms the instruction budget of a long
// evaluation (docs/internals/engine.md "Sandbox").
//
// A count hook makes Lua 5.4 trap into luaG_traceexec on every VM instruction, whatever the
// count, which cost 14% of a receipt. So an evaluation runs with no hook at all, and one
// watchdog thread per process looks at every open engine each tick (KR__WATCH_TICK_MS): an
// engine seen in the same evaluation for `deadline_ticks` ticks in a row gets a signal
// (KR__WATCH_SIGNAL) on the thread that runs it, and the handler, on that thread, sets the
// count hook with lua_sethook — the one Lua call documented as safe from a signal handler
// (lua.c stops a script on Ctrl-C the same way). From then on the hook charges the
// instruction budget as before and raises the error when it is spent.
//
// Each engine publishes `watch_seq` (odd while an evaluation runs) and the running thread; the
// handler finds the engine through a thread-local pointer that is set only while an evaluation
// runs on that thread, so a signal that arrives late does nothing, and one that arrives in
// the next evaluation of the same thread only makes that one count its budget.
#include "kr-engine-private.h"

#include <lauxlib.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

// The engine evaluating on this thread, or NULL (read by the signal handler).
static _Thread_local kr_engine *volatile running_here;

static pthread_once_t watch_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t watch_wake = PTHREAD_COND_INITIALIZER;
static kr_engine *watched; // the open engines, linked through watch_next (under watch_lock)
static bool watch_started; // the thread and the handler are in place

static void on_deadline(int sig)
{
    (void)sig;
    kr_engine *e = running_here;
    if (e)
        kr__budget_arm(e);
}

static void *watch_loop(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&watch_lock);
    for (;;) {
        while (!watched)
            pthread_cond_wait(&watch_wake, &watch_lock); // no engine open: sleep
        for (kr_engine *e = watched; e; e = e->watch_next) {
            uint64_t seq = atomic_load_explicit(&e->watch_seq, memory_order_acquire);
            if (!(seq & 1) || seq != e->watch_seen) {
                e->watch_seen = seq; // idle, or a new evaluation since the last tick
                e->watch_ticks = 0;
                continue;
            }
            if (++e->watch_ticks == e->deadline_ticks)
                pthread_kill(e->watch_thread, KR__WATCH_SIGNAL);
        }
        pthread_mutex_unlock(&watch_lock);
        struct timespec tick = {0, KR__WATCH_TICK_MS * 1000000L};
        nanosleep(&tick, NULL);
        pthread_mutex_lock(&watch_lock);
    }
    return NULL;
}

static void watch_start(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_deadline;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(KR__WATCH_SIGNAL, &sa, NULL) != 0)
        return;
    pthread_t t;
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0)
        return;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    // The watchdog takes no signal of its own: block everything while creating it.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&t, &attr, watch_loop, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    watch_started = rc == 0;
}

bool kr__watch_add(kr_engine *e)
{
    pthread_once(&watch_once, watch_start);
    if (!watch_started)
        return false;
    pthread_mutex_lock(&watch_lock);
    e->watch_next = watched;
    watched = e;
    pthread_cond_signal(&watch_wake);
    pthread_mutex_unlock(&watch_lock);
    return true;
}

void kr__watch_remove(kr_engine *e)
{
    pthread_mutex_lock(&watch_lock);
    for (kr_engine **p = &watched; *p; p = &(*p)->watch_next)
        if (*p == e) {
            *p = e->watch_next;
            break;
        }
    pthread_mutex_unlock(&watch_lock);
}

void kr__watch_begin(kr_engine *e)
{
    e->watch_thread = pthread_self();
    running_here = e;
    atomic_fetch_add_explicit(&e->watch_seq, 1, memory_order_release); // odd: running
}

void kr__watch_end(kr_engine *e)
{
    running_here = NULL; // a signal from here on finds no engine
    atomic_fetch_add_explicit(&e->watch_seq, 1, memory_order_release);
    lua_sethook(e->L, NULL, 0, 0); // when the watchdog armed it
}
