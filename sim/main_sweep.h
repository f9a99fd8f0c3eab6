/*
 * main_sweep: the sweep database commands of the dssim command line. Each takes the arguments
 * after its name (argv[0] is the command) and returns the exit status.
 */
#ifndef DSSIM_MAIN_SWEEP_H
#define DSSIM_MAIN_SWEEP_H

int main_sweep(int argc, char **argv);
int main_top(int argc, char **argv);
int main_compare(int argc, char **argv);
int main_db(int argc, char **argv);

#endif
