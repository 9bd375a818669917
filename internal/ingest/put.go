package ingest

import (
	"context"
	"errors"
	"fmt"

	"github.com/thawtrace/thaw/internal/segment"
)

// PutDocuments decodes and validates each raw document (as PutTraceSegments
// sends them), stores the valid ones durably and returns the rejections. The
// error is ErrOverloaded, ErrStopped or a store failure, in which case none
// of the valid documents may be assumed stored.
func (p *Pipeline) PutDocuments(ctx context.Context, raws [][]byte) ([]*segment.Error, error) {
	const transport = "http"
	p.metrics.Received(transport, len(raws))
	var docs []segment.Document
	var rejects []*segment.Error
	for _, raw := range raws {
		ds, errs := segment.Decode(raw, p.cfg.MaxDocumentBytes)
		for _, e := range errs {
			p.metrics.Rejected(transport, string(e.Code))
		}
		rejects = append(rejects, errs...)
		docs = append(docs, ds...)
	}
	if err := p.Submit(ctx, docs, true); err != nil {
		switch {
		case errors.Is(err, ErrOverloaded):
			p.metrics.Dropped(transport, "queue_full", len(docs))
		case errors.Is(err, ErrStopped):
			p.metrics.Dropped(transport, "stopping", len(docs))
		}
		return rejects, fmt.Errorf("store %d documents: %w", len(docs), err)
	}
	return rejects, nil
}
