package runners

import (
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
)

// ProfileEnv names the environment variable that makes a loop write a CPU
// profile of its process (runtime/pprof) to the file it names, from the
// loop's start until Run returns: bench/fanout-e2e.sh's CPUPROFILE knob
// sets it for the outgoing runner. One profile runs per process at a time;
// a second loop of the same process (`cloister runners --in-process`) logs
// that it cannot and runs on.
const ProfileEnv = "CLOISTER_CPUPROFILE"

// MemProfileEnv names the environment variable that makes a loop write an
// allocation profile of its process (pprof "allocs", sampled every 64 KiB)
// when Run returns, to the file it names with ".RUNNER" appended:
// bench/memory.sh's MEMPROFILE knob sets it for every runner.
const MemProfileEnv = "CLOISTER_MEMPROFILE"

// startProfile starts the profiles ProfileEnv and MemProfileEnv ask for and
// returns what ends them and closes their files.
func startProfile(log *slog.Logger, runner string) (stop func()) {
	stopCPU := startCPUProfile(log)
	path := os.Getenv(MemProfileEnv)
	if path == "" {
		return stopCPU
	}
	path += "." + runner
	runtime.MemProfileRate = 64 << 10
	return func() {
		stopCPU()
		runtime.GC()
		f, err := os.Create(path)
		if err == nil {
			err = pprof.Lookup("allocs").WriteTo(f, 0)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			log.Warn("no allocation profile", "env", MemProfileEnv, "err", fmt.Errorf("profile to %s: %w", path, err))
		}
	}
}

// startCPUProfile starts the CPU profile ProfileEnv asks for.
func startCPUProfile(log *slog.Logger) (stop func()) {
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
