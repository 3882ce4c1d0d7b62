package digest

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"time"

	"cloister/internal/safeio"
)

// State numbers a list's digests: a new volume each calendar year.
type State struct {
	Volume int `json:"volume"`
	Issue  int `json:"issue"`
	Year   int `json:"year"`
}

// Next returns the number of the list's next digest, from the state kept
// in dir.
func Next(dir string, now time.Time) State {
	st := State{Volume: 1}
	if b, err := os.ReadFile(filepath.Join(dir, ".state.json")); err == nil {
		json.Unmarshal(b, &st)
	}
	if st.Volume < 1 {
		st.Volume = 1
	}
	if st.Year != 0 && st.Year != now.Year() {
		st.Volume++
		st.Issue = 0
	}
	st.Year = now.Year()
	st.Issue++
	return st
}

// Save keeps st in dir, once its digest is sent.
func (st State) Save(dir string) error {
	b, _ := json.Marshal(st)
	return safeio.WriteFunc(filepath.Join(dir, ".state.json"), 0o640, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}
