package runners

import (
	"context"
	"sync"
)

// parallel runs a loop's entries several at a time: at most width at once,
// each entry once (an entry still in hand is not started again when the
// next scan lists it). A nil *parallel processes entries one by one, in the
// loop's own goroutine.
type parallel struct {
	wg    sync.WaitGroup
	slots chan struct{}
	mu    sync.Mutex
	busy  map[string]bool
	first error // the first error an entry returned (it stops the loop)
}

func newParallel(width int) *parallel {
	if width <= 1 {
		return nil
	}
	return &parallel{slots: make(chan struct{}, width), busy: map[string]bool{}}
}

// start runs fn for name in its own goroutine once a slot is free, unless
// name is in hand already or ctx is done; it reports whether it started.
func (p *parallel) start(ctx context.Context, name string, fn func() error) bool {
	p.mu.Lock()
	inHand := p.busy[name]
	p.mu.Unlock()
	if inHand {
		return false
	}
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	p.mu.Lock()
	if p.busy[name] { // finished and listed again meanwhile: the next scan sees it
		p.mu.Unlock()
		<-p.slots
		return false
	}
	p.busy[name] = true
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		err := fn()
		p.mu.Lock()
		delete(p.busy, name)
		if err != nil && p.first == nil {
			p.first = err
		}
		p.mu.Unlock()
		<-p.slots
	}()
	return true
}

// wait waits for the entries in hand.
func (p *parallel) wait() {
	if p != nil {
		p.wg.Wait()
	}
}

// err returns the first error an entry returned.
func (p *parallel) err() error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.first
}
