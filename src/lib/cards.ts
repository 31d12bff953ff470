/**
 * Card numbers, as little as possible of them. A number is accepted as 12 to 19 digits
 * (spaces and dashes between groups allowed) that pass the Luhn check (ISO/IEC 7812-1 Annex B).
 * It is never stored, logged or echoed: a payment keeps the last four digits and a keyed
 * fingerprint, which lets the (mock) processor recognise a card without knowing its number.
 */
const CARD_PATTERN = /^[0-9](?:[ -]?[0-9]){11,18}$/;

export function normalizeCardNumber(input: string): string | null {
  const trimmed = input.trim();
  if (!CARD_PATTERN.test(trimmed)) return null;
  const digits = trimmed.replace(/[ -]/g, '');
  return luhnValid(digits) ? digits : null;
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits.length > 0 && sum % 10 === 0;
}

const encoder = new TextEncoder();

/**
 * HMAC-SHA256 of the number under a server secret. A plain hash would not do: card numbers
 * have so little entropy that an unkeyed SHA-256 is reversed by enumeration (PCI DSS 3.5.1).
 */
export async function cardFingerprint(digits: string, secret: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(`edgeshop card fingerprint v1:${secret}`), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(digits)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join('');
}
