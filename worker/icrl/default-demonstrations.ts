// Default demonstration sets, written for this project. Each trajectory is exactly what a good rollout
// looks like in the sequence: the model's text up to a closing tool tag, then the observation the
// environment inserts ("\n\n<information>...</information>\n\n"), and so on until <answer>. Search
// results imitate the search tool's "Doc i(Title: t) text" lines and code results the Python tool's
// observation (stdout, then "[stderr]" and an "[error CODE]" line on failure). Facts were checked by
// hand; math outputs were produced by running the code with /usr/bin/python3.
import { DemonstrationSetSchema, type DemonstrationSet, type TaskKind } from "../../contracts/index.js";

const info = (lines: string[]) => `\n\n<information>${lines.join("\n")}</information>\n\n`;

export const QA_SEARCH_DEMONSTRATIONS: DemonstrationSet = DemonstrationSetSchema.parse({
  name: "qa-search-default-v1",
  task: "qa",
  items: [
    {
      question: "Which river flows through the capital of Hungary?",
      trajectory:
        "<think> The capital of Hungary is Budapest. I should confirm which river runs through it. </think>\n<search> Budapest river </search>" +
        info([
          "Doc 1(Title: Budapest) Budapest is the capital and most populous city of Hungary. The city lies on both banks of the Danube: Buda and Óbuda on the west bank, Pest on the east bank. The three towns were unified in 1873.",
          "Doc 2(Title: Danube) The Danube is the second-longest river in Europe, after the Volga. It rises in the Black Forest in Germany and flows into the Black Sea, passing through four capital cities: Vienna, Bratislava, Budapest and Belgrade.",
          "Doc 3(Title: Tisza) The Tisza is one of the main rivers of Central and Eastern Europe. It flows through Hungary and joins the Danube in Serbia.",
        ]) +
        "<think> Budapest, the capital of Hungary, lies on both banks of the Danube. </think>\n<answer> Danube </answer>",
    },
    {
      question: "In what year was the author of the novel that inspired the film Blade Runner born?",
      trajectory:
        "<think> First I need the novel Blade Runner is based on and its author, then the author's birth year. </think>\n<search> Blade Runner film based on novel </search>" +
        info([
          "Doc 1(Title: Blade Runner) Blade Runner is a 1982 science fiction film directed by Ridley Scott. It is loosely based on the 1968 novel Do Androids Dream of Electric Sheep? by Philip K. Dick.",
          "Doc 2(Title: Blade Runner 2049) Blade Runner 2049 is a 2017 science fiction film directed by Denis Villeneuve, a sequel to the 1982 film Blade Runner.",
          "Doc 3(Title: Ridley Scott) Sir Ridley Scott is an English film director and producer, known for Alien, Blade Runner and Gladiator.",
        ]) +
        "<think> The novel is Do Androids Dream of Electric Sheep? by Philip K. Dick. Now I need his birth year. </think>\n<search> Philip K. Dick birth date </search>" +
        info([
          "Doc 1(Title: Philip K. Dick) Philip Kindred Dick (December 16, 1928 – March 2, 1982) was an American science fiction writer, born in Chicago. His novels include The Man in the High Castle and Ubik.",
          "Doc 2(Title: Do Androids Dream of Electric Sheep?) Do Androids Dream of Electric Sheep? is a science fiction novel by Philip K. Dick, first published in 1968.",
          "Doc 3(Title: The Man in the High Castle) The Man in the High Castle is a 1962 alternate history novel by Philip K. Dick.",
        ]) +
        "<think> Philip K. Dick was born on December 16, 1928. </think>\n<answer> 1928 </answer>",
    },
    {
      question: "Who painted the ceiling of the Sistine Chapel?",
      trajectory:
        "<think> I think it was Michelangelo, but I will check. </think>\n<search> Sistine Chapel ceiling painter </search>" +
        info([
          "Doc 1(Title: Sistine Chapel ceiling) The Sistine Chapel ceiling was painted by Michelangelo between 1508 and 1512, commissioned by Pope Julius II.",
          "Doc 2(Title: The Last Judgment (Michelangelo)) The Last Judgment is a fresco by Michelangelo covering the altar wall of the Sistine Chapel, painted between 1536 and 1541.",
          "Doc 3(Title: Sistine Chapel) The Sistine Chapel is a chapel in the Apostolic Palace in Vatican City.",
        ]) +
        "<think> The search confirms that Michelangelo painted the ceiling. </think>\n<answer> Michelangelo </answer>",
    },
    {
      question: "What is the currency of the country where most of the Atacama Desert lies?",
      trajectory:
        "<think> I need to find which country holds most of the Atacama Desert, then that country's currency. </think>\n<search> Atacama Desert location country </search>" +
        info([
          "Doc 1(Title: Atacama Desert) The Atacama Desert is a desert plateau on the Pacific coast of South America, a strip of land about 1,600 km long west of the Andes, mostly in northern Chile.",
          "Doc 2(Title: Altiplano) The Altiplano is a high plateau in west-central South America, shared by Bolivia, Peru, Chile and Argentina.",
          "Doc 3(Title: Antofagasta Region) The Antofagasta Region is one of Chile's regions; much of it lies in the Atacama Desert.",
        ]) +
        "<think> Most of the Atacama Desert lies in Chile. Now the currency of Chile. </think>\n<search> currency of Chile </search>" +
        info([
          "Doc 1(Title: Chilean peso) The peso is the currency of Chile. Its ISO 4217 code is CLP.",
          "Doc 2(Title: Economy of Chile) Chile has a market economy; copper is its largest export.",
          "Doc 3(Title: Central Bank of Chile) The Central Bank of Chile issues the Chilean peso.",
        ]) +
        "<think> Chile's currency is the Chilean peso. </think>\n<answer> Chilean peso </answer>",
    },
    {
      question: "What is the capital of the country that hosted the first FIFA World Cup?",
      trajectory:
        "<think> I need the host country of the first FIFA World Cup, then its capital. </think>\n<search> first FIFA World Cup host country </search>" +
        info([
          "Doc 1(Title: 1930 FIFA World Cup) The 1930 FIFA World Cup was the first FIFA World Cup. It was held in Uruguay from 13 to 30 July 1930, and Uruguay beat Argentina 4–2 in the final.",
          "Doc 2(Title: FIFA World Cup) The FIFA World Cup is an international football competition held every four years since 1930, except in 1942 and 1946.",
          "Doc 3(Title: Estadio Centenario) Estadio Centenario is a stadium in Montevideo built for the 1930 FIFA World Cup.",
        ]) +
        "<think> The host was Uruguay. I will check its capital. </think>\n<search> capital of Uruguay </search>" +
        info([
          "Doc 1(Title: Montevideo) Montevideo is the capital and largest city of Uruguay, on the northern shore of the Río de la Plata.",
          "Doc 2(Title: Uruguay) Uruguay is a country in South America whose capital and largest city is Montevideo.",
          "Doc 3(Title: Punta del Este) Punta del Este is a resort town in Maldonado, Uruguay.",
        ]) +
        "<think> The first World Cup was held in Uruguay, whose capital is Montevideo. </think>\n<answer> Montevideo </answer>",
    },
  ],
});

export const MATH_PYTHON_DEMONSTRATIONS: DemonstrationSet = DemonstrationSetSchema.parse({
  name: "math-python-default-v1",
  task: "math",
  items: [
    {
      question: "What is the sum of all positive divisors of 360?",
      trajectory:
        "<think> I can add up every d from 1 to 360 that divides 360. </think>\n<python>\nprint(sum(d for d in range(1, 361) if 360 % d == 0))\n</python>" +
        info(["1170"]) +
        "<think> As a check: 360 = 2^3 * 3^2 * 5, so the sum is (1+2+4+8)(1+3+9)(1+5) = 15 * 13 * 6 = 1170. </think>\n<answer> 1170 </answer>",
    },
    {
      question: "How many positive integers less than 1000 are divisible by 3 or 5, but not by 15?",
      trajectory:
        "<think> Count directly with a loop over 1..999. </think>\n<python>\ncount = sum(1 for n in range(1, 1000) if (n % 3 == 0 or n % 5 == 0) and n % 15 != 0)\nprint(count)\n</python>" +
        info(["400"]) +
        "<think> Inclusion-exclusion agrees: 333 + 199 - 66 = 466 are divisible by 3 or 5, minus the 66 divisible by 15 gives 400. </think>\n<answer> 400 </answer>",
    },
    {
      question: "Find the remainder when 7^2024 is divided by 100.",
      trajectory:
        "<think> Python's three-argument pow computes modular powers directly. </think>\n<python>\nprint(pow(7, 2024, 100))\nprint(pow(7, 4, 100))\n</python>" +
        info(["1\n1"]) +
        "<think> 7^4 = 2401 is 1 mod 100 and 2024 is a multiple of 4, so the remainder is 1. </think>\n<answer> 1 </answer>",
    },
    {
      question: "What is the smallest positive integer n such that n! ends with exactly 10 zeros?",
      trajectory:
        "<think> I will count the trailing zeros of n! for increasing n. </think>\n<python>\nfor n in range(1, 100):\n    s = str(math.factorial(n))\n    if len(s) - len(s.rstrip('0')) == 10:\n        print(n)\n        break\n</python>" +
        info([
          "[stderr]",
          "Traceback (most recent call last):",
          '  File "/tmp/main.py", line 2, in <module>',
          "    s = str(math.factorial(n))",
          "            ^^^^",
          "NameError: name 'math' is not defined",
          "[error RUNTIME_ERROR] NameError: name 'math' is not defined",
        ]) +
        "<think> I forgot to import math. </think>\n<python>\nimport math\nfor n in range(1, 100):\n    s = str(math.factorial(n))\n    if len(s) - len(s.rstrip('0')) == 10:\n        print(n)\n        break\n</python>" +
        info(["45"]) +
        "<think> 44! has 8 + 1 = 9 trailing zeros and 45! has 9 + 1 = 10, so n = 45. </think>\n<answer> 45 </answer>",
    },
    {
      question: "A rectangle has perimeter 56 and a diagonal of length 20. What is its area?",
      trajectory:
        "<think> With sides a and b: a + b = 28 and a^2 + b^2 = 400. Then 2ab = (a + b)^2 - (a^2 + b^2). </think>\n<python>\nprint((28 ** 2 - 400) / 2)\n</python>" +
        info(["192.0"]) +
        "<think> The area ab is 192 (the sides are 12 and 16). </think>\n<answer> 192 </answer>",
    },
  ],
});

export function defaultDemonstrationsFor(task: TaskKind): DemonstrationSet {
  return task === "qa" ? QA_SEARCH_DEMONSTRATIONS : MATH_PYTHON_DEMONSTRATIONS;
}
