package pricing

import "testing"

func TestLookup(t *testing.T) {
	tests := []struct {
		model string
		want  Price
		ok    bool
	}{
		{"gpt-4o-mini", Price{0.15, 0.60}, true},
		{"gpt-4o-mini-2024-07-18", Price{0.15, 0.60}, true},
		{"gpt-4o", Price{2.50, 10}, true},
		{"gpt-4o-2024-08-06", Price{2.50, 10}, true},
		{"openai/gpt-4.1-mini", Price{0.40, 1.60}, true},
		{"DeepSeek-Chat", Price{0.27, 1.10}, true},
		{"qwen2.5:7b", Price{}, false},
		{"gpt-4", Price{}, false},
	}
	for _, tt := range tests {
		got, ok := Lookup(tt.model)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Lookup(%q) = %v, %v; want %v, %v", tt.model, got, ok, tt.want, tt.ok)
		}
	}
	if c := (Price{In: 1, Out: 2}).Cost(500_000, 250_000); c != 1.0 {
		t.Errorf("Cost = %v, want 1", c)
	}
}
