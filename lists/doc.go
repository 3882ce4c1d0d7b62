// Package lists stores Cloister's lists, members, roles, settings, held posts,
// key requests waiting for an owner and confirmation tokens in one bbolt file
// (cloister.db in the state directory).
//
// # Sharing one bbolt file between processes
//
// Cloister runs every runner as its own process, and CLI commands write to the
// same state directory while the runners work. bbolt allows one read-write
// opener at a time: a read-write Open takes an exclusive flock on the file and a
// second Open, even in the same process, waits until Options.Timeout and fails;
// read-only opens share the lock. A process that kept the file open while idle
// would therefore stall every other process.
//
// So no process keeps the database open. A Store holds only the file's path and
// a lock time-out; each unit of work (Store.View, Store.Update) opens the file,
// runs exactly one transaction and closes it again:
//
//   - View takes a shared lock and opens the file read-only: many readers run at
//     once.
//   - Update takes an exclusive lock and opens the file read-write: one writer at
//     a time, and no reader meanwhile.
//
// The lock is taken on a sidecar file (cloister.db.lock) with a blocking flock
// bounded by Store.Timeout (default 30 s) before bbolt opens the database. bbolt's
// own lock on the database file is then uncontended among Cloister processes; it
// still guards against foreign openers such as the bbolt CLI. The sidecar is
// there because bbolt waits for its lock by polling every 50 ms: under steady
// contention a poller keeps losing to processes that re-take the lock between
// its polls, while processes blocked in flock(2) are woken by the kernel as soon
// as the lock is released. Measured with TestManyProcesses (four worker
// processes and the test process writing and reading one file for two
// seconds, two shared cores): with bbolt's lock alone two workers got one
// write each in and the longest unit of work took 2 s; with the sidecar
// every worker made 180 to 290 writes and the longest unit of work took
// under 0.11 s. A wait that exceeds the time-out returns ErrLockTimeout,
// which callers treat as a temporary failure.
//
// Opening costs a few system calls and an mmap per unit of work, and a
// committed Update costs bbolt's fsyncs; both are small next to the work a
// runner does per message. The rule for callers is to keep transactions short:
// read what is needed, close, then do slow work (crypto, SMTP) outside any
// transaction. Fanning out to a large list streams members with
// Tx.ForEachMember inside one View, which holds only a shared lock. Never
// call View or Update from inside another's function: the inner call waits
// for a lock its own caller holds, and times out.
//
// All processes that open the state directory must run as the same user: the
// database and its lock file are created with mode 0600.
//
// Besides the database, WriteIndex (and Update, when Store.IndexPath is set)
// writes lists.idx, the one file cmd/deliver reads: one posting address per
// line, sorted, replaced atomically while the exclusive lock is held so that
// two writers cannot leave a stale index behind.
package lists
