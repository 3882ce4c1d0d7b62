package handlers

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// DMARCCache wraps a DMARCResolver with a small cache: answers and "no such
// name" results are kept for TTL, at most Max names; other errors are not
// cached. It is safe for concurrent use.
type DMARCCache struct {
	Resolver DMARCResolver
	TTL      time.Duration    // default 10 minutes
	Max      int              // default 1000 names
	Now      func() time.Time // default time.Now

	mu      sync.Mutex
	entries map[string]cacheEntry
}

type cacheEntry struct {
	txt      []string
	notFound error
	expires  time.Time
}

// LookupTXT implements DMARCResolver.
func (c *DMARCCache) LookupTXT(ctx context.Context, name string) ([]string, error) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	c.mu.Lock()
	if e, ok := c.entries[name]; ok && now().Before(e.expires) {
		c.mu.Unlock()
		if e.notFound != nil {
			return nil, e.notFound
		}
		return append([]string(nil), e.txt...), nil
	}
	c.mu.Unlock()
	txt, err := c.Resolver.LookupTXT(ctx, name)
	var de *net.DNSError
	notFound := err != nil && errors.As(err, &de) && de.IsNotFound
	if err != nil && !notFound {
		return nil, err
	}
	ttl, max := c.TTL, c.Max
	if ttl <= 0 {
		ttl = 10 * time.Minute
	}
	if max <= 0 {
		max = 1000
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]cacheEntry{}
	}
	if len(c.entries) >= max {
		t := now()
		for k, e := range c.entries {
			if !t.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		for k := range c.entries {
			if len(c.entries) < max {
				break
			}
			delete(c.entries, k)
		}
	}
	e := cacheEntry{txt: append([]string(nil), txt...), expires: now().Add(ttl)}
	if notFound {
		e.notFound = err
	}
	c.entries[name] = e
	return txt, err
}
