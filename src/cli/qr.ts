import qrcode from 'qrcode-terminal';

/** A compact terminal QR code (half-height blocks); it assumes a dark terminal background. */
export function renderQr(text: string): string {
  let rendered = '';
  qrcode.generate(text, { small: true }, (qr) => {
    rendered = qr;
  });
  return rendered;
}
