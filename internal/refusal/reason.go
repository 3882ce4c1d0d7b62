package refusal

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// Reason is why a rule fired (or why a post was held or refused), kept as a
// fmt format and its arguments rather than as rendered text, so that a
// notice renders it in the list's language: the format is a message of the
// catalogue (etc/templates/LANG/messages.po), the arguments are kept. An
// argument that is itself a Reason (the words "OpenPGP or S/MIME") is
// rendered, and translated, the same way. String renders it in English, for
// logs and records.
type Reason struct {
	// Format is the English fmt format, a catalogue message.
	Format string `json:"format"`
	// Args are its arguments: strings, integers or Reasons.
	Args []any `json:"args,omitempty"`
}

// Reasonf returns the Reason of format with a.
func Reasonf(format string, a ...any) Reason { return Reason{Format: format, Args: a} }

// Verbatim returns a Reason that shows text as written, untranslated: a
// reason an owner wrote (a scenario's reason='...'), a moderator's words.
func Verbatim(text string) Reason { return Reason{Format: "%s", Args: []any{text}} }

// Translator translates an English catalogue message; *mailtext.Catalog is
// one. A nil Translator is English.
type Translator interface {
	T(msg string) string
}

// IsZero reports an empty Reason.
func (r Reason) IsZero() bool { return r.Format == "" && len(r.Args) == 0 }

// String renders the Reason in English.
func (r Reason) String() string { return r.Render(nil) }

// Render renders the Reason with the translation of its format (and of its
// Reason arguments) by tr.
func (r Reason) Render(tr Translator) string {
	format := r.Format
	if tr != nil {
		format = tr.T(format)
	}
	if len(r.Args) == 0 {
		return format
	}
	args := make([]any, len(r.Args))
	for i, a := range r.Args {
		if sub, ok := a.(Reason); ok {
			a = sub.Render(tr)
		}
		args[i] = a
	}
	return fmt.Sprintf(format, args...)
}

// UnmarshalJSON reads a Reason written by encoding/json: integral numbers
// become ints (for %d), objects with a format become Reasons.
func (r *Reason) UnmarshalJSON(b []byte) error {
	var raw struct {
		Format string            `json:"format"`
		Args   []json.RawMessage `json:"args"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("reason: %w", err)
	}
	out := Reason{Format: raw.Format}
	for _, a := range raw.Args {
		v, err := reasonArg(a)
		if err != nil {
			return err
		}
		out.Args = append(out.Args, v)
	}
	*r = out
	return nil
}

func reasonArg(a json.RawMessage) (any, error) {
	s := strings.TrimSpace(string(a))
	if strings.HasPrefix(s, "{") {
		var sub Reason
		if err := json.Unmarshal(a, &sub); err != nil {
			return nil, err
		}
		return sub, nil
	}
	var v any
	if err := json.Unmarshal(a, &v); err != nil {
		return nil, fmt.Errorf("reason argument: %w", err)
	}
	if f, ok := v.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int(f), nil
	}
	return v, nil
}

// Reasons are the reasons of several rules, joined by "; " when rendered.
type Reasons []Reason

// String renders the Reasons in English.
func (rs Reasons) String() string { return rs.Render(nil) }

// Render renders each Reason with tr and joins them with "; ".
func (rs Reasons) Render(tr Translator) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.Render(tr)
	}
	return strings.Join(parts, "; ")
}

// ParseReasons reads Reasons stored as JSON (see lists.Held.ReasonFormat).
func ParseReasons(b []byte) (Reasons, error) {
	var rs Reasons
	if err := json.Unmarshal(b, &rs); err != nil {
		return nil, fmt.Errorf("reasons: %w", err)
	}
	return rs, nil
}
