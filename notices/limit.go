package notices

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"cloister/internal/safeio"
)

// Refusal notices (the fixed answer to mail the list cannot read) are
// limited per sender: at most RefusalNoticeLimit in a RefusalNoticeWindow
// that opens with the first one. Past the limit the mail is still refused
// and logged, but not answered: an oracle attack needs many answers, and
// forged senders must not turn the list into a mail cannon.
const (
	RefusalNoticeLimit  = 3
	RefusalNoticeWindow = 24 * time.Hour
	// refusalCounters bounds the senders tracked at once; when it is
	// full, new senders get no notice until windows expire (fail closed).
	refusalCounters = 10000
)

// noticeLimitFile holds the counters, under the state directory: a JSON
// object from the SHA-256 of the lower-cased sender address to its window.
const noticeLimitFile = "refusal-notices.json"

type noticeWindow struct {
	Start time.Time `json:"start"`
	Count int       `json:"count"`
}

// AllowRefusal counts one refusal notice to addr at now and reports
// whether it may be sent. The counters are written durably before the
// answer is given; a lock file serialises runners in other processes.
func AllowRefusal(stateDir, addr string, now time.Time) (bool, error) {
	path := filepath.Join(stateDir, noticeLimitFile)
	lock, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return false, fmt.Errorf("refusal notice counters: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return false, fmt.Errorf("lock refusal notice counters: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)

	counts := map[string]noticeWindow{}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return false, fmt.Errorf("read refusal notice counters: %w", err)
	default:
		if err := json.Unmarshal(b, &counts); err != nil {
			// A damaged file must not silence the limit forever, nor
			// stop the runner: start again from nothing.
			counts = map[string]noticeWindow{}
		}
	}
	for k, w := range counts {
		if now.Sub(w.Start) >= RefusalNoticeWindow || w.Start.After(now) {
			delete(counts, k)
		}
	}
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(addr))))
	key := hex.EncodeToString(sum[:16])
	w, ok := counts[key]
	if !ok {
		if len(counts) >= refusalCounters {
			return false, nil
		}
		w = noticeWindow{Start: now}
	}
	w.Count++
	counts[key] = w
	out, err := json.Marshal(counts)
	if err != nil {
		return false, err
	}
	if err := safeio.WriteFunc(path, 0o600, func(wr io.Writer) error {
		_, err := wr.Write(out)
		return err
	}); err != nil {
		return false, fmt.Errorf("write refusal notice counters: %w", err)
	}
	return w.Count <= RefusalNoticeLimit, nil
}
