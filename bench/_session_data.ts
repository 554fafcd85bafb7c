// The session data the memory benchmarks store (bench/memory.ts,
// bench/redis_memory.ts): about 200 bytes of JSON, different in every session.

/** The values of session number `i`. */
export function sessionData(i: number): {
  language: string;
  user: { name: string; email: string };
  cart: number[];
  csrf: string;
  lastPage: string;
} {
  return {
    language: "en",
    user: { name: `User number ${i}`, email: `user${i}@example.com` },
    cart: [1000 + i, 2000 + i, 3000 + i],
    csrf: `csrf-${i.toString(36).padStart(24, "0")}`,
    lastPage: `/products/${i % 997}/details?tab=reviews`,
  };
}
