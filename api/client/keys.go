package client

import (
	"context"
	"net/http"
	"net/url"

	"cloister/service"
)

// KeyList implements service.API.
func (c *Client) KeyList(ctx context.Context, _ service.Actor, req service.KeyListRequest) ([]service.SubscriberKey, error) {
	var out []service.SubscriberKey
	return out, c.Do(ctx, http.MethodGet, "/v1/lists/"+esc(req.List)+"/keys", nil, nil, &out)
}

// KeyAdd implements service.API.
func (c *Client) KeyAdd(ctx context.Context, _ service.Actor, req service.KeyAddRequest) (service.SubscriberKey, error) {
	var out service.SubscriberKey
	body := map[string]any{"address": req.Address, "key": string(req.Key), "bind": req.Bind}
	return out, c.Do(ctx, http.MethodPost, "/v1/lists/"+esc(req.List)+"/keys", nil, body, &out)
}

// KeyRevoke implements service.API.
func (c *Client) KeyRevoke(ctx context.Context, _ service.Actor, req service.KeyRevokeRequest) error {
	q := url.Values{}
	if req.Fingerprint != "" {
		q.Set("fingerprint", req.Fingerprint)
	}
	return c.Do(ctx, http.MethodDelete, "/v1/lists/"+esc(req.List)+"/keys/"+esc(req.Address), q, nil, nil)
}

// ListKeyExport implements service.API.
func (c *Client) ListKeyExport(ctx context.Context, _ service.Actor, req service.ListKeyRequest) (service.Export, error) {
	kind := req.Kind
	if kind == "" {
		kind = "openpgp"
	}
	data, ct, err := c.Get(ctx, "/v1/lists/"+esc(req.List)+"/listkey/"+esc(kind), nil)
	return service.Export{ContentType: ct, Data: data}, err
}

// MyKey implements service.API.
func (c *Client) MyKey(context.Context, service.Actor, service.MyKeyRequest) ([]service.SubscriberKey, error) {
	return nil, notOverAPI("reading one's own key")
}

// KeyChallenge implements service.API.
func (c *Client) KeyChallenge(context.Context, service.Actor, service.KeyChallengeRequest) (service.KeyChallenge, error) {
	return service.KeyChallenge{}, notOverAPI("setting one's own key")
}

// KeyVerify implements service.API.
func (c *Client) KeyVerify(context.Context, service.Actor, service.KeyVerifyRequest) (service.SubscriberKey, error) {
	return service.SubscriberKey{}, notOverAPI("setting one's own key")
}
