package runners

import (
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
)

// ProfileEnv names the environment variable that makes a loop write a CPU
// profile of its process (runtime/pprof) to the file it names, from the
// loop's start until Run returns: bench/fanout-e2e.sh's CPUPROFILE knob
// sets it for the outgoing runner. One profile runs per process at a time;
// a second loop of the same process (`cloister runners --in-process`) logs
// that it cannot and runs on.
const ProfileEnv = "CLOISTER_CPUPROFILE"

// startProfile starts the CPU profile ProfileEnv asks for and returns what
// stops it and closes the file.
func startProfile(log *slog.Logger) (stop func()) {
	path := os.Getenv(ProfileEnv)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		if err = pprof.StartCPUProfile(f); err != nil {
			f.Close()
		}
	}
	if err != nil {
		log.Warn("no CPU profile", "env", ProfileEnv, "err", fmt.Errorf("profile to %s: %w", path, err))
		return func() {}
	}
	log.Info("writing a CPU profile", "path", path)
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			log.Warn("CPU profile not written whole", "path", path, "err", err)
		}
	}
}
