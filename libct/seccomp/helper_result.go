//go:build cgo || rt_embed_seccomp

package seccomp

// HelperResult is what rt-seccomp writes for a profile it compiled.
type HelperResult struct {
	Program  *Program `json:"program"`
	Warnings []string `json:"warnings,omitempty"`
}
