// Reads certificate requests the way kube-controller-manager's kubelet signers do
// (k8s.io/kubernetes pkg/apis/certificates/v1 ParseCSR, then CheckSignature in the signer):
// the first PEM block must be a CERTIFICATE REQUEST, crypto/x509 parses it, the signature must
// check. Input: JSON lines {"id": ..., "request": <base64, as spec.request travels in JSON>}.
// Output: one JSON line per request with what Go read, in the same order.
package main

import (
	"bufio"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

type input struct {
	ID      int    `json:"id"`
	Request []byte `json:"request"`
}

type attribute struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

type output struct {
	ID             int         `json:"id"`
	Error          string      `json:"error,omitempty"`
	CommonName     string      `json:"cn"`
	Organizations  []string    `json:"o"`
	Names          []attribute `json:"names"`
	DNSNames       []string    `json:"dns"`
	IPAddresses    []string    `json:"ip"`
	EmailAddresses []string    `json:"email"`
	URIs           []string    `json:"uri"`
	SignatureValid bool        `json:"signatureValid"`
	SignatureError string      `json:"signatureError,omitempty"`
}

func parse(request []byte) (*x509.CertificateRequest, error) {
	block, _ := pem.Decode(request)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("PEM block type must be CERTIFICATE REQUEST")
	}
	return x509.ParseCertificateRequest(block.Bytes)
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	encoder := json.NewEncoder(out)
	for in.Scan() {
		var req input
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			fmt.Fprintln(os.Stderr, "bad input line:", err)
			os.Exit(2)
		}
		result := output{ID: req.ID, Organizations: []string{}, Names: []attribute{}, DNSNames: []string{}, IPAddresses: []string{}, EmailAddresses: []string{}, URIs: []string{}}
		csr, err := parse(req.Request)
		if err != nil {
			result.Error = err.Error()
		} else {
			result.CommonName = csr.Subject.CommonName
			result.Organizations = append(result.Organizations, csr.Subject.Organization...)
			for _, name := range csr.Subject.Names {
				result.Names = append(result.Names, attribute{Type: name.Type.String(), Value: fmt.Sprint(name.Value)})
			}
			result.DNSNames = append(result.DNSNames, csr.DNSNames...)
			for _, ip := range csr.IPAddresses {
				result.IPAddresses = append(result.IPAddresses, hex.EncodeToString(ip))
			}
			result.EmailAddresses = append(result.EmailAddresses, csr.EmailAddresses...)
			for _, uri := range csr.URIs {
				result.URIs = append(result.URIs, uri.String())
			}
			if err := csr.CheckSignature(); err != nil {
				result.SignatureError = err.Error()
			} else {
				result.SignatureValid = true
			}
		}
		if err := encoder.Encode(result); err != nil {
			fmt.Fprintln(os.Stderr, "write:", err)
			os.Exit(2)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "read:", err)
		os.Exit(2)
	}
}
