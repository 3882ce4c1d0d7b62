package rules

import "cloister/internal/refusal"

// Reason is why a rule fired, kept as a catalogue format and its arguments
// (refusal.Reason, where the posting chain, the handlers and the notices
// share it).
type Reason = refusal.Reason

// Reasons are the reasons of several rules (refusal.Reasons).
type Reasons = refusal.Reasons

// Translator translates an English catalogue message (refusal.Translator).
type Translator = refusal.Translator

// Reasonf returns the Reason of format with a: the rules' formats are
// written with it (or with hit), so TestReasonFormatsListEveryHit finds them.
func Reasonf(format string, a ...any) Reason { return refusal.Reasonf(format, a...) }

// Verbatim returns a Reason that shows text as written, untranslated: a
// reason an owner wrote (a scenario's reason='...'), a moderator's words.
func Verbatim(text string) Reason { return refusal.Verbatim(text) }

// ParseReasons reads the reasons a held post keeps (refusal.ParseReasons).
func ParseReasons(b []byte) (Reasons, error) { return refusal.ParseReasons(b) }

// DescriptionOf returns a rule's description as a Reason (the reason given
// for a post whose own reason may quote its protected content).
func DescriptionOf(r Rule) Reason { return Reason{Format: r.Description()} }
