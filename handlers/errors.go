package handlers

import (
	"errors"
	"fmt"
)

// RejectError means a handler refuses the post; Reason may be shown to the
// sender and never names configuration or key material.
type RejectError struct {
	Handler string
	Reason  string
}

func (e *RejectError) Error() string {
	return fmt.Sprintf("rejected by %s: %s", e.Handler, e.Reason)
}

// ErrDiscard means the post is dropped without a notice (a mail loop). The
// error returned wraps it with the reason; test it with errors.Is.
var ErrDiscard = errors.New("discard")

// ErrUnknownHandler is wrapped by Run when a pipeline names no handler of All.
var ErrUnknownHandler = errors.New("unknown handler")

// reject returns a *RejectError for handler h.
func reject(h Handler, format string, a ...any) error {
	return &RejectError{Handler: h.Name(), Reason: fmt.Sprintf(format, a...)}
}
