package client

import (
	"context"
	"net/http"

	"cloister/service"
)

// ListList implements service.API.
func (c *Client) ListList(ctx context.Context, _ service.Actor, _ service.ListListRequest) ([]service.ListSummary, error) {
	var out []service.ListSummary
	return out, c.Do(ctx, http.MethodGet, "/v1/lists", nil, nil, &out)
}

// ListShow implements service.API.
func (c *Client) ListShow(ctx context.Context, _ service.Actor, req service.ListRef) (service.ListInfo, error) {
	var out service.ListInfo
	return out, c.Do(ctx, http.MethodGet, "/v1/lists/"+esc(req.List), nil, nil, &out)
}

// ListCreate implements service.API.
func (c *Client) ListCreate(ctx context.Context, _ service.Actor, req service.ListCreateRequest) (service.ListInfo, error) {
	var out service.ListInfo
	return out, c.Do(ctx, http.MethodPost, "/v1/lists", nil, req, &out)
}

// ListDelete implements service.API.
func (c *Client) ListDelete(ctx context.Context, _ service.Actor, req service.ListRef) error {
	return c.Do(ctx, http.MethodDelete, "/v1/lists/"+esc(req.List), nil, nil, nil)
}

// ListSet implements service.API.
func (c *Client) ListSet(ctx context.Context, _ service.Actor, req service.ListSetRequest) (service.ListInfo, error) {
	var out service.ListInfo
	return out, c.Do(ctx, http.MethodPatch, "/v1/lists/"+esc(req.List)+"/settings", nil,
		map[string]any{"settings": req.Settings}, &out)
}

// ListApplyStyle implements service.API.
func (c *Client) ListApplyStyle(ctx context.Context, _ service.Actor, req service.ListStyleRequest) (service.ListInfo, error) {
	var out service.ListInfo
	return out, c.Do(ctx, http.MethodPost, "/v1/lists/"+esc(req.List)+"/style", nil, map[string]string{"style": req.Style}, &out)
}

// StyleList implements service.API.
func (c *Client) StyleList(ctx context.Context, _ service.Actor) ([]service.StyleInfo, error) {
	var out []service.StyleInfo
	return out, c.Do(ctx, http.MethodGet, "/v1/styles", nil, nil, &out)
}

// ApplyImport implements service.API.
func (c *Client) ApplyImport(ctx context.Context, _ service.Actor, req service.ImportPlanRequest) (service.ImportPlanResult, error) {
	var out service.ImportPlanResult
	return out, c.Do(ctx, http.MethodPost, "/v1/imports", nil, req, &out)
}
