package handlers

import (
	"errors"

	"cloister/internal/refusal"
)

// ErrUnknownHandler is wrapped by Run when a pipeline names no handler of All.
var ErrUnknownHandler = errors.New("unknown handler")

// reject returns a *refusal.RejectError for handler h.
func reject(h Handler, format string, a ...any) error {
	return refusal.Reject(h.Name(), format, a...)
}
