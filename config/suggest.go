package config

import "strings"

// suggest returns " (did you mean K?)" for the known key K closest to a misspelt one, or ""
// when none is close enough to be a likely typo.
func suggest(key string, known []string) string {
	// A short key needs a closer match: "ip" is not a typo of "id".
	best, bestDist := "", min(2, len(key)/3+1)+1
	for _, k := range known {
		if d := editDistance(strings.ToLower(key), k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		best = uniquePrefixOf(key, known)
	}
	if best == "" {
		return ""
	}
	return " (did you mean " + best + "?)"
}

// uniquePrefixOf returns the one known key that starts with key, as "initial" is the start of
// "initial_interval"; "" when there is none, several, or key is too short to say.
func uniquePrefixOf(key string, known []string) string {
	if len(key) < 4 {
		return ""
	}
	found := ""
	for _, k := range known {
		if strings.HasPrefix(k, strings.ToLower(key)) {
			if found != "" {
				return ""
			}
			found = k
		}
	}
	return found
}

// editDistance is the Levenshtein distance between a and b, counted in bytes: keys are ASCII.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// suggested gets K back out of " (did you mean K?)".
func suggested(hint string) string {
	k, _ := strings.CutPrefix(hint, " (did you mean ")
	k, _ = strings.CutSuffix(k, "?)")
	return k
}
