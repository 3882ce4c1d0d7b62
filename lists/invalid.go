package lists

import (
	"errors"
	"fmt"
)

// ErrInvalid marks a member or list record that breaks the store's rules
// (a control character in a name or description, too long a text, an
// unknown role or delivery mode): the caller's input is wrong, not the
// store. The error's text is the rule that was broken.
var ErrInvalid = errors.New("invalid record")

// invalid is an error that is ErrInvalid without saying so in its text.
type invalid struct{ error }

func (e invalid) Is(target error) bool { return target == ErrInvalid }
func (e invalid) Unwrap() error        { return e.error }

// invalidf returns an ErrInvalid error with the given text.
func invalidf(format string, a ...any) error { return invalid{fmt.Errorf(format, a...)} }
