package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// benchAddr is a loopback address with a port free a moment ago, for the
// service's HTTP server (its /metrics) during evo bench.
func benchAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// stageMeans scrapes the service's evo_stage_seconds and returns each
// stage's mean in milliseconds (sum / count): where a message's time went.
// The histogram's buckets are too coarse for percentiles at this scale.
func stageMeans(ctx context.Context, url string) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: %s", url, resp.Status)
	}
	fams, err := parseExposition(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	fam := fams["evo_stage_seconds"]
	if fam == nil {
		return nil, fmt.Errorf("%s has no evo_stage_seconds", url)
	}
	out := map[string]float64{}
	for _, m := range fam.GetMetric() {
		h := m.GetHistogram()
		if h.GetSampleCount() == 0 {
			continue
		}
		for _, l := range m.GetLabel() {
			if l.GetName() == "stage" {
				out[l.GetValue()] = round3(1000 * h.GetSampleSum() / float64(h.GetSampleCount()))
			}
		}
	}
	return out, nil
}

// parseExposition parses Prometheus's text exposition format (what
// /metrics serves) into metric families by name.
func parseExposition(r io.Reader) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parse metrics: %w", err)
	}
	return fams, nil
}
