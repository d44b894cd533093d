// Package pricing estimates what a run costs: a small built-in table of
// list prices for common models, which the user can override.
package pricing

import "strings"

// Price is a model's price in US dollars per million tokens.
type Price struct {
	In, Out float64
}

// table holds list prices (USD per 1M tokens, standard tier, as published by
// the providers in 2025). Prices change: --price-in/--price-out override.
var table = map[string]Price{
	"gpt-4o-mini":       {0.15, 0.60},
	"gpt-4o":            {2.50, 10.00},
	"gpt-4.1":           {2.00, 8.00},
	"gpt-4.1-mini":      {0.40, 1.60},
	"gpt-4.1-nano":      {0.10, 0.40},
	"gpt-5":             {1.25, 10.00},
	"gpt-5-mini":        {0.25, 2.00},
	"gpt-5-nano":        {0.05, 0.40},
	"o3-mini":           {1.10, 4.40},
	"o4-mini":           {1.10, 4.40},
	"deepseek-chat":     {0.27, 1.10},
	"deepseek-reasoner": {0.55, 2.19},
}

// Lookup returns the price of model. Versioned names ("gpt-4o-mini-2024-07-18")
// and provider prefixes ("openai/gpt-4o") find their base model; unknown
// models (local ones, say) are not found.
func Lookup(model string) (Price, bool) {
	m := strings.ToLower(model)
	if i := strings.LastIndex(m, "/"); i >= 0 {
		m = m[i+1:]
	}
	best := ""
	for name := range table {
		if (m == name || strings.HasPrefix(m, name+"-")) && len(name) > len(best) {
			best = name
		}
	}
	if best == "" {
		return Price{}, false
	}
	return table[best], true
}

// Cost is the price of in prompt and out completion tokens.
func (p Price) Cost(in, out int64) float64 {
	return (float64(in)*p.In + float64(out)*p.Out) / 1e6
}
