//go:build rt_embed_init

package initexe

import _ "embed"

//go:embed rt-init
var embedded []byte
