import * as pdfjs from 'pdfjs-dist/legacy/build/pdf.mjs';

/**
 * A PDF opened with pdf.js as the tests read them: its own fonts only, no font loading, quiet.
 * pdf.js takes the bytes over (it detaches their buffer): it reads a copy. The caller destroys it.
 */
export function openPdf(bytes: Uint8Array): Promise<pdfjs.PDFDocumentProxy> {
  return pdfjs.getDocument({
    data: bytes.slice(),
    disableFontFace: true,
    useSystemFonts: false,
    verbosity: 0,
  }).promise;
}
