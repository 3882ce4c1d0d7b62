package rawmime

import (
	"errors"
	"fmt"
	"strings"
)

// Walk calls fn on e and then, depth first, on every body part of nested
// multipart entities. path holds the part indices from the root (empty for e
// itself); fn must not keep it. Nesting deeper than maxDepth multiparts or
// more than maxParts entities in all gives an error wrapping
// ErrTooLarge. message/rfc822 parts are not entered. If fn returns
// SkipChildren the entity's parts are not visited; any other error stops the
// walk and is returned.
func Walk(e *Entity, maxDepth, maxParts int, fn func(path []int, part *Entity) error) error {
	w := walker{maxDepth: maxDepth, maxParts: maxParts, fn: fn}
	return w.walk(e, nil)
}

type walker struct {
	maxDepth, maxParts int
	seen               int
	fn                 func([]int, *Entity) error
}

func (w *walker) walk(e *Entity, path []int) error {
	w.seen++
	if w.seen > w.maxParts {
		return fmt.Errorf("more than %d MIME entities: %w", w.maxParts, ErrTooLarge)
	}
	if err := w.fn(path, e); err != nil {
		if errors.Is(err, SkipChildren) {
			return nil
		}
		return err
	}
	mt, params, err := e.MediaType()
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		return nil
	}
	if len(path) >= w.maxDepth {
		return fmt.Errorf("MIME nesting deeper than %d: %w", w.maxDepth, ErrTooLarge)
	}
	parts, err := SplitMultipart(e.Body, params["boundary"], w.maxParts)
	if err != nil {
		return fmt.Errorf("split %s at %v: %w", mt, path, err)
	}
	for i, raw := range parts {
		child, err := Parse(raw)
		if err != nil {
			return fmt.Errorf("part %v: %w", append(path[:len(path):len(path)], i), err)
		}
		if err := w.walk(child, append(path[:len(path):len(path)], i)); err != nil {
			return err
		}
	}
	return nil
}
