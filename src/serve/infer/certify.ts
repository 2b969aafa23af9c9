// Certificates with predictions: `parameters.certify` of an infer request (true, or a bound method) asks for
// each row's certified L∞ radius, for models trained with --certified only, within a stated compute budget.
import type { CertifyRequest, RowCertificates } from '../../parallel/index.ts';
import { randomStageCoverage, type BoundMethod } from '../../verify/index.ts';
import { HttpError } from '../errors.ts';
import type { ServedModel } from '../registry.ts';
import type { LoadedModel } from '../../nn/index.ts';

/** Certification time per request: rows the bisection has not reached by then get null. */
export const CERTIFY_BUDGET_MS = 500;
/** Methods fast enough for a request: one CROWN certification of a wide ball can outlast the whole budget. */
const SERVED_METHODS = ['ibp', 'crown-ibp'] as const;

/** What a model offers of parameters.certify (null: not trained with --certified, so nothing). */
export function certificatesOffered(m: ServedModel & { loaded: LoadedModel }) {
  const provenance = m.loaded.manifest.provenance as { certified?: unknown } | undefined;
  return provenance?.certified
    ? { norm: 'linf', methods: [...SERVED_METHODS], budgetMs: CERTIFY_BUDGET_MS }
    : null;
}

/** The certify request of `parameters.certify`, null when not asked; 400 for a bad value or an uncertified model. */
export function certifyRequest(
  value: unknown,
  m: ServedModel & { loaded: LoadedModel },
): CertifyRequest | null {
  if (value === undefined || value === false) return null;
  if (value === 'crown')
    throw new HttpError(
      400,
      `parameters.certify: crown is too slow for a request's ${CERTIFY_BUDGET_MS} ms budget; use ibp or crown-ibp (bun run certify computes crown offline)`,
    );
  const method: BoundMethod | null =
    value === true
      ? 'ibp'
      : typeof value === 'string' && (SERVED_METHODS as readonly string[]).includes(value)
        ? (value as BoundMethod)
        : null;
  if (!method)
    throw new HttpError(
      400,
      `parameters.certify must be true, false or a bound method (${SERVED_METHODS.join(', ')})`,
    );
  if (!certificatesOffered(m))
    throw new HttpError(
      400,
      `model '${m.name}' was not trained with --certified: certificates are served for certified-trained models only (others certify almost nothing)`,
    );
  return {
    method,
    budgetMs: CERTIFY_BUDGET_MS,
    range: [...m.loaded.manifest.input.range] as [number, number],
    randomness: m.random ? randomStageCoverage(m.loaded.network, m.random.noise).randomness : {},
  };
}

/** The response's `parameters` for the certificates: the radii and what they promise. */
export function certificateParameters(req: CertifyRequest, c: RowCertificates) {
  return {
    certified_radius: c.radius,
    certificate: {
      norm: 'linf',
      method: req.method,
      input_range: req.range,
      not_certified_at: c.notCertified,
      budget_ms: req.budgetMs,
      spent_ms: Math.round(c.spentMs * 10) / 10,
      promise:
        "for each row, no input within certified_radius of it in L∞ (clipped to input_range) gets another label from this model: proven by sound bounds (float32 rounding included), not by attacks. The largest such radius lies below not_certified_at (the bisection's bracket); null: the request's certification budget ran out before that row",
    },
  };
}
