// Workload for Ember's JFR ingest tests (tests/integration/test_ingest_jfr.py) and the JFR
// bench: a known hot method (hotLoop) that burns CPU, a known allocation site (allocate)
// that makes byte arrays, a contended monitor (contend) and parks (park), so a recording
// made with settings=profile holds execution, allocation, monitor and park events.
// Usage: java -XX:StartFlightRecording=... EmberJfrWorkload <millis>
import java.util.concurrent.locks.LockSupport;

public final class EmberJfrWorkload {
    static volatile long sink;
    static volatile Object keep;
    static final Object LOCK = new Object();

    static long hotLoop(long n) {
        long h = 1125899906842597L;
        for (long i = 0; i < n; i++) {
            h = 31 * h + (i ^ (h >>> 7));
        }
        return h;
    }

    static void allocate(int rounds) {
        for (int i = 0; i < rounds; i++) {
            keep = new byte[64 * 1024 + (i & 1023)];
        }
    }

    static void contend(long until) {
        Thread[] ts = new Thread[2];
        for (int t = 0; t < ts.length; t++) {
            ts[t] = new Thread(() -> {
                while (System.nanoTime() < until) {
                    synchronized (LOCK) {
                        sink += hotLoop(200_000);
                    }
                }
            }, "ember-contender-" + t);
            ts[t].start();
        }
        for (Thread t : ts) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    static void park(int times) {
        for (int i = 0; i < times; i++) {
            LockSupport.parkNanos(25_000_000L);
        }
    }

    public static void main(String[] args) {
        long millis = args.length > 0 ? Long.parseLong(args[0]) : 2000;
        long start = System.nanoTime();
        long end = start + millis * 1_000_000L;
        // a third of the time contended locking, the rest hot loop + allocations
        contend(start + millis * 1_000_000L / 3);
        park(4);
        while (System.nanoTime() < end) {
            sink += hotLoop(2_000_000);
            allocate(16);
        }
        System.out.println("done " + sink);
    }
}
