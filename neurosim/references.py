"""The sources neurosim's models, constants and tests rest on, each under a short key.

Docstrings and ``source`` strings cite a work as ``[key]`` (e.g. ``[merolla2014]``); every key
cited anywhere in the package resolves here (a test checks it), and the README's "References"
section lists the same entries. A figure taken from a secondary source says so where it is used.
"""
REFERENCES = {
    # ---- TrueNorth, the chip being modelled
    "merolla2014": "P. A. Merolla et al., \"A million spiking-neuron integrated circuit with a "
                   "scalable communication network and interface\", Science 345(6197):668-673, "
                   "2014 (4,096 cores, 1 ms tick, 63-72 mW, 26 pJ per synaptic event).",
    "akopyan2015": "F. Akopyan et al., \"TrueNorth: Design and tool flow of a 65 mW 1 million "
                   "neuron programmable neurosynaptic chip\", IEEE TCAD 34(10):1537-1557, 2015.",
    "cassidy2013": "A. S. Cassidy et al., \"Cognitive computing building block: A versatile and "
                   "efficient digital neuron model for neurosynaptic cores\", IJCNN 2013 (the "
                   "neuron equations, axon types, reset and floor modes).",
    "cassidy2014": "A. S. Cassidy et al., \"Real-time scalable cortical computing at 46 "
                   "giga-synaptic OPS/watt with ~100x speedup in time-to-solution and ~100,000x "
                   "reduction in energy-to-solution\", SC14, 2014.",
    "esser2016": "S. K. Esser et al., \"Convolutional networks for fast, energy-efficient "
                 "neuromorphic computing\", PNAS 113(41):11441-11446, 2016 (trinary weights on "
                 "typed axons, neuron copies for fan-out).",
    "davies2018": "M. Davies et al., \"Loihi: A neuromorphic manycore processor with on-chip "
                  "learning\", IEEE Micro 38(1):82-99, 2018, Table 2 (energy per operation).",
    # ---- the bounds
    "elmhamdi2017fep": "E. M. El Mhamdi and R. Guerraoui, \"When neurons fail\", IPDPS 2017, "
                       "arXiv:1706.08884 (Fep, the worst-case error bound).",
    "elmhamdi2017erf": "E. M. El Mhamdi, R. Guerraoui and S. Rouault, \"On the robustness of a "
                       "neural network\", SRDS 2017, arXiv:1707.08167 (Erf, the average-case "
                       "estimate; the 4-4-4-4-4-1 random-network study).",
    "elmhamdi2019": "E. M. El Mhamdi, R. Guerraoui, A. Kucharavy and S. Volodin, \"The "
                    "probabilistic fault tolerance of neural networks in the continuous limit\", "
                    "arXiv:1902.01686, 2019 (first-order per-input estimators).",
    # ---- training
    "dettmers2019": "T. Dettmers and L. Zettlemoyer, \"Sparse networks from scratch: Faster "
                    "training without losing performance\", arXiv:1907.04840, 2019 (sparse "
                    "momentum).",
    "dai2017": "X. Dai, H. Yin and N. K. Jha, \"NeST: A neural network synthesis tool based on a "
               "grow-and-prune paradigm\", arXiv:1711.02017, 2017.",
    "han2015": "S. Han, J. Pool, J. Tran and W. J. Dally, \"Learning both weights and connections "
               "for efficient neural networks\", NeurIPS 2015.",
    # ---- conversion and interchange
    "diehl2015": "P. U. Diehl et al., \"Fast-classifying, high-accuracy spiking deep networks "
                 "through weight and threshold balancing\", IJCNN 2015.",
    "rueckauer2017": "B. Rueckauer et al., \"Conversion of continuous-valued deep networks to "
                     "efficient event-driven networks for image classification\", Front. "
                     "Neurosci. 11:682, 2017 (percentile normalisation).",
    "pedersen2024": "J. E. Pedersen et al., \"Neuromorphic intermediate representation: A "
                    "unified instruction set for interoperable brain-inspired computing\", Nat. "
                    "Commun. 15:8122, 2024 (NIR).",
    # ---- radiation
    "alsat1": "Alsat-1 on-board memory upsets over 8 years in LEO: 4.04e-7 upsets/bit/day, "
              "98.6 % single-bit (flight data of commercial memories, as collected in the "
              "project's shared references).",
    "lee2018": "Lee et al. 2018, single-event characterisation of a 16 nm FinFET FPGA, with "
               "CREME96 GEO rates (solar minimum, 100 mil Al): flip-flops 2.08e-8, block RAM "
               "5.29e-9 upsets/bit/day (secondary quote).",
    "ecss-e-st-10-04c": "ECSS-E-ST-10-04C Rev.1, \"Space engineering: Space environment\", "
                        "ESA-ESTEC, 2020, Annex I (JPL solar particle event model).",
    "spenvis": "SPENVIS, ESA's Space Environment Information System (solar cycle: 7 active "
               "years of 11).",
    "tdrs1-1989": "TDRS-1 in GEO: 243 upsets in about 6 days during the October 1989 solar "
                  "particle events.",
    "leveugle2009": "R. Leveugle, A. Calvez, P. Maistri and P. Vanhauwaert, \"Statistical fault "
                    "injection: Quantified error and confidence\", DATE 2009.",
    "wilson1927": "E. B. Wilson, \"Probable inference, the law of succession, and statistical "
                  "inference\", J. Am. Stat. Assoc. 22(158):209-212, 1927 (score interval).",
    # ---- radiation physics: environment models, transport, device response
    "pstar": "M. J. Berger, J. S. Coursey, M. A. Zucker and J. Chang, \"ESTAR, PSTAR, and ASTAR: "
             "Computer programs for calculating stopping-power and range tables\", NIST (ICRU "
             "Report 49 data), https://physics.nist.gov/PhysRefData/Star/Text/PSTAR.html.",
    "barkas1963": "W. H. Barkas, \"Nuclear Research Emulsions\", Academic Press, 1963 "
                  "(effective charge Z(1 - exp(-125 beta Z^-2/3))).",
    "vallado2006": "D. A. Vallado, P. Crawford, R. Hujsak and T. S. Kelso, \"Revisiting "
                   "Spacetrack Report #3\", AIAA 2006-6753 (SGP4; the sgp4 package).",
    "sawyer1976": "D. M. Sawyer and J. I. Vette, \"AP-8 trapped proton environment for solar "
                  "maximum and solar minimum\", NSSDC/WDC-A-R&S 76-06, NASA GSFC, 1976.",
    "vette1991": "J. I. Vette, \"The AE-8 trapped electron model environment\", NSSDC/WDC-A-R&S "
                 "91-24, NASA GSFC, 1991.",
    "irbem": "S. Bourdarie, D. Boscher et al., IRBEM library (AE8/AP8 and geomagnetic "
             "coordinates), https://prbem.github.io/IRBEM/ (wrapped by the aep8 package).",
    "hathaway1994": "D. H. Hathaway, R. M. Wilson and E. J. Reichmann, \"The shape of the sunspot "
                    "cycle\", Solar Physics 151:177-190, 1994 (R(t) = a (t − t₀)³/(exp((t − t₀)²/b²) "
                    "− c), c fixed for all cycles, b tied to a).",
    "uh1973": "\"Observation of cosmic-ray particles with Z > 35\", Physical Review D, 1973 (balloon "
              "flights from Palestine, Texas, September 1968; integral intensities above 1 GeV/n per "
              "charge group; abstract at repository.lsu.edu/physics_astronomy_pubs/5582, authors not "
              "retrieved).",
    "heirtzler2002": "J. R. Heirtzler, \"The future of the South Atlantic anomaly and "
                     "implications for radiation damage in space\", J. Atmos. Sol.-Terr. Phys. "
                     "64:1701-1708, 2002.",
    "usoskin2005": "I. G. Usoskin, K. Alanko-Huotari, G. A. Kovaltsov and K. Mursula, "
                   "\"Heliospheric modulation of cosmic rays: Monthly reconstruction for "
                   "1951-2004\", J. Geophys. Res. 110:A12108, 2005 (proton LIS).",
    "usoskin2011": "I. G. Usoskin, G. A. Bazilevskaya and G. A. Kovaltsov, \"Solar modulation "
                   "parameter for cosmic rays since 1936 reconstructed from ground-based neutron "
                   "monitors and ionization chambers\", J. Geophys. Res. 116:A02104, 2011.",
    "gleeson1968": "L. J. Gleeson and W. I. Axford, \"Solar modulation of galactic cosmic "
                   "rays\", Astrophys. J. 154:1011-1026, 1968 (force-field approximation).",
    "smart2005": "D. F. Smart and M. A. Shea, \"A review of geomagnetic cutoff rigidities for "
                 "earth-orbiting spacecraft\", Adv. Space Res. 36:2012-2020, 2005.",
    "feynman1993": "J. Feynman, G. Spitale, J. Wang and S. Gabriel, \"Interplanetary proton "
                   "fluence model: JPL 1991\", J. Geophys. Res. 98(A8):13281-13294, 1993.",
    "engelmann1990": "J. J. Engelmann et al., \"Charge composition and energy spectra of "
                     "cosmic-ray nuclei for elements from Be to Ni. Results from HEAO-3-C2\", "
                     "Astron. Astrophys. 233:96-111, 1990.",
    "simpson1983": "J. A. Simpson, \"Elemental and isotopic composition of the galactic cosmic "
                   "rays\", Annu. Rev. Nucl. Part. Sci. 33:323-382, 1983.",
    "petersen1992": "E. L. Petersen, J. C. Pickel, J. H. Adams and E. C. Smith, \"Rate "
                    "prediction for single event effects - a critique\", IEEE Trans. Nucl. Sci. "
                    "39(6):1577-1599, 1992 (Weibull fits, IRPP, figure of merit).",
    "petersen2011": "E. L. Petersen, \"Single Event Effects in Aerospace\", Wiley-IEEE Press, "
                    "2011.",
    "pickel1980": "J. C. Pickel and J. T. Blandford, \"Cosmic-ray-induced errors in MOS "
                  "devices\", IEEE Trans. Nucl. Sci. 27(2):1006-1015, 1980 (RPP method).",
    "stapor1990": "W. J. Stapor, J. P. Meyers, J. B. Langworthy and E. L. Petersen, \"Two "
                  "parameter Bendel model calculations for predicting proton induced upset\", "
                  "IEEE Trans. Nucl. Sci. 37(6):1966-1973, 1990.",
    "gao2022": "S. Gao et al., \"Heavy ion-induced MCUs in 28 nm SRAM-based FPGAs: Upset "
               "proportions, classifications, and pattern shapes\", Nucl. Sci. Tech. 33:161, "
               "2022.",

    "loveless2025spenvis": "T. D. Loveless, SPENVIS 4.6.13 output files of the course "
                           "'ME Radiation Effects and Reliability' (Indiana University, ENGR-E-399/"
                           "599), HW 2 solutions, 2025, github.com/tdloveless/me-radfx: "
                           "HW/HW_02_Solutions/polar_leo_spenvis_tri.txt (825 km, 98.8 deg) and "
                           "spenvis_tri.txt (530 km, 53 deg); AP-8 MIN orbit-averaged omnidirectional "
                           "integral proton flux, 30-day orbit from 1 Jan 2026.",
    "obrien2022": "T. P. O'Brien, \"Using Continuous Slowing Down Approximation and the Right "
                  "Parallel Piped Model to Estimate Single Event Effects Rates\", Aerospace Report "
                  "ATR-2022-00960, The Aerospace Corporation, 2022 (approved for public release), "
                  "Table 1 and the CREME96 runs of S. Davis shipped with it (github.com/PRBEM/"
                  "IRBEM-extras, csda_rpp/data/q800a90i100.PUP, q800a90i100Z2.HUP: 800 km 90 deg, "
                  "100 mil Al sphere, solar quiet 1977, AP8MIN).",
    "koga2019": "R. Koga, S. C. Davis and D. J. Mabry, \"Radiation Effects Testing of Selected "
                "Voltage Regulator Microcircuits with Heavy Ions and Protons\", IEEE Radiation "
                "Effects Data Workshop 2019 (LM7912 Weibull curves).",
    "davis2020": "S. C. Davis et al., \"The Aerospace Corporation's Compendium of Recent Radiation "
                 "Effect Results\", IEEE Radiation Effects Data Workshop 2020 (ATMEGA1280).",
    "tylka1997": "A. J. Tylka et al., \"CREME96: A Revision of the Cosmic Ray Effects on "
                 "Micro-Electronics Code\", IEEE Trans. Nucl. Sci. 44(6):2150-2160, 1997.",
    "aguilar2021": "M. Aguilar et al. (AMS Collaboration), \"The Alpha Magnetic Spectrometer (AMS) "
                   "on the International Space Station: Part II - Results from the first seven "
                   "years\", Phys. Rep. 894:1-116, 2021 (p/He and He/O flux ratios vs rigidity; "
                   "tables as served by the ASI SSDC cosmic-ray database).",
    # ---- figures quoted from secondary sources (verify against the primary before relying on them)
    "mcu-tid2020": "Total-dose failure of commercial 180-40 nm microcontrollers at 33-37 krad(Si), "
                   "as collected in the project's shared references (secondary quote; the primary "
                   "test reports were not read).",
    "leo-dose": "About 150 rad(Si) per year in LEO behind about 10 mm Al (secondary quote in the "
                "project's shared references).",
    "wu2025": "Wu et al. 2025: about 90 % of LEO upsets of UoSAT-2 fall in the South Atlantic "
              "Anomaly (secondary quote in the project's shared references).",
    # ---- published tool output, tabulated by a third party
    "shirokawakita2026spenvis": "shirokawakita (GitHub user), \"SPENVISを用いた宇宙陽子線環境の算出"
                                "手順\" (a guide to computing proton environments with SPENVIS), "
                                "May 2026, github.com/shirokawakita/spenvis_guide: inputs/"
                                "iss_05yr_combined_proton.csv and images/fig11_iss_combined.png; "
                                "SPENVIS 4.6.14 AP-8 MIN orbit-averaged trapped-proton differential "
                                "flux x 180 days (cm-2 MeV-1), 410 km circular, 51.6 deg, 1-day "
                                "trajectory from 1 Jan 2020, RAAN 0 (the project's SPENVIS header in "
                                "inputs/Solar_cell_damage_equivalent_fluences_in_ISS_05yr.txt).",
    # ---- 28 nm device parameters (the shipped sram-28nm-bulk cell)
    "lee2014kintex7": "D. S. Lee, M. J. Wirthlin, G. M. Swift and A. C. Le, \"Single-Event "
                      "Characterization of the 28 nm Xilinx Kintex-7 Field-Programmable Gate Array "
                      "under Heavy Ion Irradiation\", IEEE Radiation Effects Data Workshop 2014, "
                      "doi:10.1109/REDW.2014.7004595 (XC7K325T-1FBG900C; Table 1: Weibull per bit "
                      "A, W, X0, S of configuration memory 3.34e-8, 338.5, 0.4, 0.852, user "
                      "flip-flops 1.47e-7, 271.3, 1.1, 1.090, BRAM 3.82e-8, 87.5, 0.1, 0.893; "
                      "Table 2: GEO solar-minimum 100 mil Al rates 1.0e-7, 9.0e-8, 5.2e-7 "
                      "upsets/bit/day). Numbers transcribed from [seu-platform2026]; the primary "
                      "was not read in this project.",
    "wirthlin2014jinst": "M. J. Wirthlin, H. Takai and A. Harding, \"Soft error rate estimations "
                         "of the Kintex-7 FPGA within the ATLAS Liquid Argon (LAr) Calorimeter\", "
                         "JINST 9:C01025, 2014, doi:10.1088/1748-0221/9/01/C01025 (Table 1, TSL "
                         "180 MeV protons: configuration memory 8.29e-15, BRAM 8.19e-15 cm2/bit). "
                         "Numbers transcribed from [seu-platform2026] "
                         "(code/layout_ecc_sim/data/proton_7series_sigma_E.json); the primary was "
                         "not read in this project.",
    "sielewicz-kintex7": "K. M. Sielewicz, \"Report on radiation testing of the FPGA\", chapter 1 "
                         "\"Measurement of CRAM cross-section of Kintex-7 325 FPGA\" (30 MeV "
                         "protons: 3.07e-15 cm2 per bit), undated report, public copy at "
                         "scribd.com/document/722603618.",
    "microchip2020polarfire": "Wang et al. (Microchip), \"Radiation Characteristics of FPGA Using "
                              "Complementary-SONOS Configuration Cell\", RT PolarFire radiation "
                              "test report, 2020-02-04 (MPF300, 28 nm; TAMU heavy ions, LET "
                              "0.9-30.4 MeV cm2/mg): Table 1, Weibull per bit sigma_sat, LET_TH, "
                              "W, s of uSRAM 3e-9, 0.1, 12, 1.3; LSRAM 5e-9, 0.1, 11, 1.3; DFF "
                              "all-one 5e-9, 0.5, 11, 1.3; all-zero 4e-9, 0.5, 10, 1.3; "
                              "checkerboard 7e-8, 0.1, 32, 1.6; checkerboard-slow 3e-8, 0.1, 28, "
                              "1.5; CREME96 GEO solar-minimum 100 mil Al rates 4.44e-8, 9.21e-8, "
                              "4.07e-8, 3.36e-8, 2.28e-7, 1.34e-7 upsets/bit/day (the sensitive "
                              "depth is not given). Numbers transcribed from [spacellm2026]; the "
                              "primary was not read in this project.",
    "berg2016nepp": "M. D. Berg, J. A. Pellish and M. J. Campola (NASA GSFC/NEPP), \"Single Event "
                    "Effects in FPGA Devices 2015-2016\", NTRS 20160009479: Kintex-7 XC7K325T "
                    "latch-up onset 11.6 MeV cm2/mg with real-time scrubbing (against 19 reported "
                    "in [lee2014kintex7]); at elevated temperature events from LET 8.6 with about "
                    "1e-7 cm2 per device (classical SEL or micro-latch-up not decided). Numbers "
                    "transcribed from [spacellm2026]; the primary was not read in this project.",
    "ti-spracc0a": "Texas Instruments, application report SPRACC0A (TMS320F2837x/F2807x SRAM "
                   "error correction, 2017, rev. 2020), section on multiple-cell upsets: a particle "
                   "track across rows puts its flipped cells in different words, one along a row "
                   "must go beyond the column-mux factor to put two in one word; \"At a 90 nm "
                   "process node a penetration of 5 cells is extremely rare. At 65 nm a "
                   "penetration of 6 cells is extremely rare.\" (read at "
                   "ti.com/document-viewer/lit/html/SPRACC0A).",
    "spacellm2026": "ardacanuckan/spacellm (GitHub), packages/docs/docs/beam-test-data.md (commit "
                    "551294e4), 2026: direct table reads of [microchip2020polarfire] and "
                    "[berg2016nepp] with their URLs (secondary source).",
    "seu-platform2026": "juwadeLone/seu_platform (GitHub), code/orbit_seu/env_data/"
                        "WEIBULL_MEASURED_NOTES.md (commit b0d03d2c) and code/layout_ecc_sim/data/"
                        "weibull_7series_measured.json, proton_7series_sigma_E.json (commit "
                        "3c8a2e1e), 2026: transcriptions of [lee2014kintex7] Tables 1-2 and "
                        "[wirthlin2014jinst] Table 1, with the note that Lee's Table 1 header "
                        "'um2/bit' is a misprint for cm2/bit (secondary source).",
    "hathaway2015": "D. H. Hathaway, \"The Solar Cycle\", Living Reviews in Solar Physics 12:4, "
                    "2015, section 4.5 \"Cycle shape\", eq. 6: F(t) = A ((t - t0)/b)^3 / "
                    "(exp(((t - t0)/b)^2) - c), the average cycle fit with A = 195, b = 56 "
                    "months, c = 0.8, t0 = -4 months (read in transcriptions quoting the review: "
                    "NOAA SWPC's solar-cycle-update code by M. Miesch, github.com/mmiesch/"
                    "solar-cycle-update, utilities/cycles_util.py history, and a second public "
                    "implementation citing eq. 6 on PDF p. 40).",
    "matthia2013": "D. Matthiae, T. Berger, A. I. Mrigakshi and G. Reitz, \"A ready-to-use galactic "
                   "cosmic ray model\", Advances in Space Research 51(3):329-338, 2013 (the "
                   "ISO 15390 form with per-element C, gamma, alpha for Z = 1-28; coefficients as "
                   "coded in the reference implementation github.com/ssc-maire/CosRayModifiedISO, "
                   "internalFunctions/pythonModifiedISO.py).",
}


def cite(key):
    """The full reference of ``key``; a KeyError names a key that is not in :data:`REFERENCES`."""
    return REFERENCES[key]
