// Package chunk packs translatable segments into token-budgeted chunks.
//
// A translation request carries a chunk: several segments, each wrapped as
// `<seg id="12">text</seg>` on its own line. [Split] groups consecutive
// [Item]s, in order, into [Chunk]s whose token total (each piece's tokens plus
// [PieceOverhead] for its wrapper) stays within a budget. Tokens are counted
// by a [Counter]; [Default] is tiktoken-go's o200k_base BPE codec, whose
// vocabulary is compiled into the binary (so counting works offline) and
// loaded on the first count, behind a memo of counts by text hash, so that a
// text counted once is not tokenized again.
//
// # Packing
//
// Split is greedy and keeps order: it adds items to the current chunk while
// they fit and starts a new chunk when the next one does not. An item that
// fits in the budget on its own is never split, even if that leaves the
// previous chunk under-filled. An item that does not fit is cut by
// [SplitText] into pieces of at most budget-PieceOverhead tokens; the pieces
// keep their item's ID, carry Part/Parts, and may share chunks with other
// items (in practice the last, shorter piece shares with the items after it).
//
// # Cutting text
//
// SplitText cuts at the coarsest boundary that works, in this order:
//
//  1. sentence ends: 。！？；… and . ! ? ; followed by whitespace, and
//     newlines; closing quotes and brackets, trailing spaces and newlines stay
//     with the sentence they end;
//  2. clause marks: ，、： and , : followed by whitespace;
//  3. whitespace (the whitespace stays with the word before it);
//  4. any rune boundary.
//
// Levels 1-4 are first tried without cutting inside a markdown link or image
// (`[text](url)`, `![alt](src)`) or an inline code span (`code`). Only
// when such a span alone is over budget is it cut, again by levels 1-4.
//
// Each piece is filled greedily, as close to the budget as the boundaries
// allow. Pieces are never empty, never split a UTF-8 sequence, and
// concatenated they give back the text byte for byte. Every piece's token
// count is verified with the Counter, so the limit is a hard one whenever a
// single rune fits in it (always true of o200k_base, where a rune is at most
// four tokens).
//
// # Budgets
//
// A budget below [MinBudget] (including zero and negative budgets) is treated
// as MinBudget, so tiny budgets make small pieces instead of looping.
//
// # Cost
//
// Split counts each item once, whole; only an item over budget costs more.
// Cutting it, each piece is found with a few counts of about a piece's
// length: the first cuts are guessed from the text's tokens per byte, then a
// galloping and binary search over the cut offsets settles the piece in
// O(log n) counts at most. On long punctuation-free Chinese text that
// tokenizes about six times the text in all (TestSplitTextLinear), for any
// Counter.
package chunk

// PieceOverhead is the number of tokens a piece costs beyond its own text:
// the wrapper `<seg id="12">` + `</seg>\n` around it in a request.
//
// Measured with o200k_base: `<seg id="N">` is 6 tokens for most N and
// `</seg>\n` is 3, so 9; the whole wrapped line `<seg id="N">x</seg>\n` is
// 10 tokens for every N below 100000 (the tokenizer merges differently at
// the joins). 10 is the upper bound and is what Split charges per piece;
// TestPieceOverhead checks it.
const PieceOverhead = 10

// MinBudget is the smallest budget Split and SplitText honour; smaller
// budgets are raised to it.
const MinBudget = 32

// Item is one translatable segment: a paragraph, heading, list item and so on.
// ID is the caller's identifier and is copied to every piece of the item.
type Item struct {
	ID   int
	Text string
}

// Piece is an item or, for an item over budget, one part of it. Part is the
// 0-based index of this piece among the item's Parts pieces (Part 0 of 1 for
// an item that was not split). Tokens counts Text alone, without
// PieceOverhead.
type Piece struct {
	ID    int
	Part  int
	Parts int
	Text  string
	// Tokens is the token count of Text alone, without PieceOverhead.
	Tokens int
}

// Chunk is a run of consecutive pieces sent together. Tokens is the sum of
// each piece's Tokens plus PieceOverhead, and is at most the budget it was
// split with (unless a single rune exceeded it; see the package doc).
type Chunk struct {
	Pieces []Piece
	Tokens int
}

// clampBudget raises budgets below MinBudget to MinBudget.
func clampBudget(budget int) int {
	return max(budget, MinBudget)
}

// Split packs items, in order, into chunks of at most budget tokens (counting
// PieceOverhead per piece), splitting only items that do not fit on their own.
// Every item appears in the result exactly once, as one piece or as Parts
// consecutive pieces whose texts concatenate to the item's text; an empty item
// is one empty piece. A budget below MinBudget is treated as MinBudget. A nil
// Counter means [Default]. Split returns nil for no items.
func Split(items []Item, budget int, c Counter) []Chunk {
	if c == nil {
		c = Default()
	}
	budget = clampBudget(budget)
	limit := budget - PieceOverhead

	var (
		chunks []Chunk
		cur    Chunk
	)
	add := func(p Piece) {
		cost := p.Tokens + PieceOverhead
		if len(cur.Pieces) > 0 && cur.Tokens+cost > budget {
			chunks = append(chunks, cur)
			cur = Chunk{}
		}
		cur.Pieces = append(cur.Pieces, p)
		cur.Tokens += cost
	}

	for _, it := range items {
		sp := newSplitter(it.Text, limit, c)
		if sp.total <= limit {
			add(Piece{ID: it.ID, Part: 0, Parts: 1, Text: it.Text, Tokens: sp.total})
			continue
		}
		parts := sp.run()
		for k, p := range parts {
			add(Piece{ID: it.ID, Part: k, Parts: len(parts), Text: it.Text[p.start:p.end], Tokens: p.tokens})
		}
	}
	if len(cur.Pieces) > 0 {
		chunks = append(chunks, cur)
	}
	return chunks
}

// SplitText cuts text into pieces of at most budget tokens each, at the
// coarsest boundaries possible (see the package doc), and returns them in
// order; strings.Join(pieces, "") == text. A text within budget is returned
// as a single piece, and an empty text as no pieces. A budget below MinBudget
// is treated as MinBudget. A nil Counter means [Default].
//
// Split calls SplitText's algorithm with budget-PieceOverhead, so that each
// piece plus its wrapper fits in a chunk.
func SplitText(text string, budget int, c Counter) []string {
	if text == "" {
		return nil
	}
	if c == nil {
		c = Default()
	}
	sp := newSplitter(text, clampBudget(budget), c)
	if sp.total <= sp.limit {
		return []string{text}
	}
	parts := sp.run()
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = text[p.start:p.end]
	}
	return out
}
