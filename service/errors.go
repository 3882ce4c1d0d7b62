package service

import (
	"errors"
	"fmt"
)

// Stable error codes; the API puts them in its JSON errors.
const (
	CodeInvalid         = "invalid"
	CodeUnauthenticated = "unauthenticated"
	CodeForbidden       = "forbidden"
	CodeNotFound        = "not_found"
	CodeConflict        = "conflict"
	// CodePending: the request waits for a confirmation or an approval; it
	// is not a failure.
	CodePending     = "pending"
	CodeUnavailable = "unavailable"
	CodeTooLarge    = "too_large"
)

// Error is the error every operation returns: a stable Code, a Message
// safe to show the actor (no plaintext of an encrypted post, no internal
// paths), and the underlying error for the log.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Err     error  `json:"-"`

	// format and args are what Message was made from, so that a caller
	// can show it translated (MessageFormat).
	format string
	args   []any
}

// Error implements error; it shows the message and the code, not Err.
func (e *Error) Error() string {
	return e.Code + ": " + e.Message
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Code returns the code of err: "" for nil, the code of an *Error in its
// chain, else unavailable (an error of the server's side).
func Code(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeUnavailable
}

// Message returns the message of an *Error in err's chain, or a generic
// text for other errors (whose text may name internal paths).
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	if err == nil {
		return ""
	}
	return "the server could not do it now; try again later"
}

// MessageFormat returns the English format and the arguments Message(err)
// was made from, for a caller that shows it in another language; for an
// error that was not made from a format, Message(err) and no arguments.
func MessageFormat(err error) (format string, args []any) {
	var e *Error
	if errors.As(err, &e) && e.format != "" && fmt.Sprintf(e.format, e.args...) == e.Message {
		return e.format, e.args
	}
	return Message(err), nil
}

// errorf returns an *Error with code and a formatted message.
func errorf(code, format string, a ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, a...), format: format, args: a}
}

// wrapf returns an *Error with code, a formatted message and err for the log.
func wrapf(err error, code, format string, a ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, a...), Err: err, format: format, args: a}
}

// internal wraps a server-side error: unavailable, with a generic message.
func internal(err error, what string) *Error {
	return &Error{Code: CodeUnavailable, Message: "the server could not " + what + " now; try again later", Err: err}
}
