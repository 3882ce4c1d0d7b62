package client

import (
	"context"
	"net/http"

	"cloister/service"
)

func heldPath(list, id string) string { return "/v1/lists/" + esc(list) + "/held/" + esc(id) }

// HeldList implements service.API.
func (c *Client) HeldList(ctx context.Context, _ service.Actor, req service.HeldListRequest) ([]service.HeldInfo, error) {
	var out []service.HeldInfo
	return out, c.Do(ctx, http.MethodGet, "/v1/lists/"+esc(req.List)+"/held", nil, nil, &out)
}

// HeldShow implements service.API.
func (c *Client) HeldShow(ctx context.Context, _ service.Actor, req service.HeldRef) (service.HeldPost, error) {
	var out service.HeldPost
	return out, c.Do(ctx, http.MethodGet, heldPath(req.List, req.ID), nil, nil, &out)
}

// HeldApprove implements service.API.
func (c *Client) HeldApprove(ctx context.Context, _ service.Actor, req service.HeldRef) error {
	return c.Do(ctx, http.MethodPost, heldPath(req.List, req.ID)+"/approve", nil, nil, nil)
}

// HeldReject implements service.API.
func (c *Client) HeldReject(ctx context.Context, _ service.Actor, req service.HeldRejectRequest) error {
	return c.Do(ctx, http.MethodPost, heldPath(req.List, req.ID)+"/reject", nil, map[string]string{"reason": req.Reason}, nil)
}

// HeldDiscard implements service.API.
func (c *Client) HeldDiscard(ctx context.Context, _ service.Actor, req service.HeldRef) error {
	return c.Do(ctx, http.MethodPost, heldPath(req.List, req.ID)+"/discard", nil, nil, nil)
}

// HeldSendToMe implements service.API.
func (c *Client) HeldSendToMe(context.Context, service.Actor, service.HeldRef) error {
	return notOverAPI("sending a held post to oneself")
}
