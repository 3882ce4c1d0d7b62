package client

import (
	"context"
	"net/http"

	"cloister/service"
)

// BounceList implements service.API.
func (c *Client) BounceList(ctx context.Context, _ service.Actor, req service.ListRef) ([]service.BounceInfo, error) {
	var out []service.BounceInfo
	return out, c.Do(ctx, http.MethodGet, "/v1/lists/"+esc(req.List)+"/bounces", nil, nil, &out)
}

// QueueStatus implements service.API.
func (c *Client) QueueStatus(ctx context.Context, _ service.Actor) ([]service.QueueInfo, error) {
	var out []service.QueueInfo
	return out, c.Do(ctx, http.MethodGet, "/v1/queues", nil, nil, &out)
}

// QueueEntries implements service.API.
func (c *Client) QueueEntries(ctx context.Context, _ service.Actor, req service.QueueRef) ([]service.QueueEntry, error) {
	var out []service.QueueEntry
	return out, c.Do(ctx, http.MethodGet, "/v1/queues/"+esc(req.Queue), nil, nil, &out)
}
