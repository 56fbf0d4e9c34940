/*
 * fzprobe.c - what the VM freezes depend on (docs/models.md, "The VM
 * freezes"; the measurements there were made with it). A one-off probe, not
 * part of the build (bench/freeze/ is not globbed):
 *   gcc -O2 -o /tmp/fzprobe bench/freeze/fzprobe.c -luring -lpthread
 *   fzprobe FILE SECS RATE READER_CPU MODE DETS [FREEZES_OUT [DEPTH [TIMER_US]]]
 * DETS: one letter per CPU from CPU 0: s a SCHED_IDLE spinner, n a
 * SCHED_OTHER spinner, t a timer sleeper (every TIMER_US, default 1000),
 * - none. Each records its clock gaps; a freeze is >= 2 ms in which every
 * CPU's detector was out at once. The reader: O_DIRECT 4 KiB random reads
 * of FILE (a written file, no holes) from READER_CPU, QD1 paced at RATE
 * reads/s (-1: unpaced, 0: no reads) or unpaced at DEPTH; MODE w sleeps
 * between reads and in io_uring waits, p spins. Prints reads/s, the
 * device's interrupts/s (virtio1-req: edit irqs() for another host), the
 * freezes (per second, share, length p10/p50/p90/max), read latency and the
 * reads over 2 ms; FREEZES_OUT gets "start end" ms of each freeze.
 * Run it under the measurement lock on a quiet guest (a nice 19 build
 * starves SCHED_IDLE spinners too).
 */
#define _GNU_SOURCE
#include <liburing.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <time.h>
#include <sys/prctl.h>

typedef struct { uint64_t a, b; } span;
#define MAXG 200000
typedef struct { int cpu; char kind; _Atomic int quit; size_t n; span *g; long per; } det;
static uint64_t now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1000000000ull+t.tv_nsec;}
static void pin(int c){cpu_set_t s;CPU_ZERO(&s);CPU_SET(c,&s);sched_setaffinity(0,sizeof s,&s);}
static void *detf(void *arg){
  det *d=arg; pin(d->cpu); prctl(PR_SET_TIMERSLACK,1);
  if(d->kind=='s'){struct sched_param sp={0};sched_setscheduler(0,SCHED_IDLE,&sp);}
  uint64_t last=now();
  if(d->kind=='t'){
    while(!d->quit){struct timespec ts={0,d->per};clock_nanosleep(CLOCK_MONOTONIC,0,&ts,NULL);
      uint64_t t=now(); if(t-last>(uint64_t)d->per+1000000ull&&d->n<MAXG) d->g[d->n++]=(span){last+d->per,t}; last=t;}
  } else {
    while(!d->quit){uint64_t t=now(); if(t-last>1000000ull&&d->n<MAXG) d->g[d->n++]=(span){last,t}; last=t;}
  }
  return NULL;
}
static size_t inter(span *a,size_t na,span *b,size_t nb,span *o){size_t i=0,j=0,k=0;
  while(i<na&&j<nb){uint64_t x=a[i].a>b[j].a?a[i].a:b[j].a,y=a[i].b<b[j].b?a[i].b:b[j].b; if(x<y)o[k++]=(span){x,y}; if(a[i].b<b[j].b)i++; else j++;} return k;}
static int cmpd(const void*a,const void*b){double x=*(double*)a,y=*(double*)b;return x<y?-1:x>y;}
static void irqs(long *c){FILE*f=fopen("/proc/interrupts","r");char l[512];c[0]=c[1]=0;
  while(fgets(l,sizeof l,f)) if(strstr(l,"virtio1-req")){sscanf(l," %*d: %ld %ld",&c[0],&c[1]);}
  fclose(f);}
static void cpust(double *b,double *id){FILE*f=fopen("/proc/stat","r");char l[512];
  while(fgets(l,sizeof l,f)){int c;double u,n,sy,i,w,hi,si;if(sscanf(l,"cpu%d %lf %lf %lf %lf %lf %lf %lf",&c,&u,&n,&sy,&i,&w,&hi,&si)==8&&c<2){b[c]=u+n+sy+hi+si;id[c]=i+w;}}fclose(f);}
int main(int argc,char**argv){
  const char*file=argv[1]; double secs=atof(argv[2]),rate=atof(argv[3]); int rc=atoi(argv[4]); char mode=argv[5][0]; const char*dets=argv[6];
  int nd=strlen(dets); det D[8]; pthread_t th[8];
  for(int i=0;i<nd;i++){D[i]=(det){.cpu=i,.kind=dets[i],.per=argc>9?atol(argv[9])*1000:1000000};D[i].g=malloc(MAXG*sizeof(span));
    if(dets[i]!='-')pthread_create(&th[i],NULL,detf,&D[i]);}
  usleep(100000);
  long i0[2],i1[2]; irqs(i0); double b0[2],d0[2],b1[2],d1[2]; cpust(b0,d0);
  uint64_t t0=now(),end=t0+(uint64_t)(secs*1e9); size_t nr=0,nslow=0; double *lat=malloc(sizeof(double)*(size_t)(secs*200000+10));
  span *slow=malloc(MAXG*sizeof(span));
  if(rate!=0){
    pin(rc); prctl(PR_SET_TIMERSLACK,1);
    int fd=open(file,O_RDONLY|O_DIRECT); struct io_uring r; io_uring_queue_init(8,&r,0);
    void*buf=NULL; if(posix_memalign(&buf,4096,4096)) return 1; off_t sz=lseek(fd,0,SEEK_END)/4096; uint64_t x=88172645463325252ull;
    uint64_t next=t0, iv=rate>0?(uint64_t)(1e9/rate):0;
    int depth=argc>8?atoi(argv[8]):1;
    if(depth>1){ io_uring_queue_exit(&r); io_uring_queue_init(256,&r,0); uint64_t ts[256]; int infl=0;
      for(int q=0;q<depth;q++){x^=x<<13;x^=x>>7;x^=x<<17;struct io_uring_sqe*s=io_uring_get_sqe(&r);io_uring_prep_read(s,fd,buf,4096,(x%sz)*4096);s->user_data=q;ts[q]=now();infl++;}
      io_uring_submit(&r);
      while(1){struct io_uring_cqe*c; io_uring_wait_cqe(&r,&c); uint64_t b=now(); int q=c->user_data; io_uring_cqe_seen(&r,c);
        lat[nr++]=(b-ts[q])/1e3; if(b-ts[q]>2000000&&nslow<MAXG)slow[nslow++]=(span){ts[q],b}; infl--;
        if(b<end){x^=x<<13;x^=x>>7;x^=x<<17;struct io_uring_sqe*s=io_uring_get_sqe(&r);io_uring_prep_read(s,fd,buf,4096,(x%sz)*4096);s->user_data=q;ts[q]=now();infl++;io_uring_submit(&r);}
        else if(!infl) break; }
    } else
    while(now()<end){
      uint64_t t=now();
      if(rate>0 && t<next){ if(mode=='w'){struct timespec ts={next/1000000000ull,next%1000000000ull};clock_nanosleep(CLOCK_MONOTONIC,TIMER_ABSTIME,&ts,NULL);} else while(now()<next); }
      x^=x<<13;x^=x>>7;x^=x<<17;
      struct io_uring_sqe*s=io_uring_get_sqe(&r); io_uring_prep_read(s,fd,buf,4096,(x%sz)*4096);
      uint64_t a=now(); io_uring_submit(&r); struct io_uring_cqe*c;
      if(mode=='p'){while(io_uring_peek_cqe(&r,&c));} else io_uring_wait_cqe(&r,&c);
      io_uring_cqe_seen(&r,c); uint64_t b=now(); lat[nr++]=(b-a)/1e3; if(b-a>2000000&&nslow<MAXG)slow[nslow++]=(span){a,b};
      next+=iv; if(rate>0&&next+5000000<b) next=b; /* do not catch up bursts after a stall */
    }
  } else while(now()<end) usleep(100000);
  uint64_t t1=now(); irqs(i1); cpust(b1,d1);
  for(int i=0;i<nd;i++){ if(dets[i]!='-'){D[i].quit=1;pthread_join(th[i],NULL);} }
  /* freeze = intersection over detectors present */
  span *cur=NULL,*tmp=malloc(MAXG*2*sizeof(span)); size_t m=0; int first=1;
  for(int i=0;i<nd;i++){ if(dets[i]=='-')continue; if(first){cur=malloc(MAXG*2*sizeof(span));memcpy(cur,D[i].g,D[i].n*sizeof(span));m=D[i].n;first=0;}
    else {m=inter(cur,m,D[i].g,D[i].n,tmp); span*s=cur;cur=tmp;tmp=s;} }
  double *len=malloc(sizeof(double)*(m+1)); size_t k=0; double tot=0;
  FILE*fo=argc>7?fopen(argv[7],"w"):NULL;
  for(size_t i=0;i<m;i++) if(cur[i].b-cur[i].a>=2000000){len[k++]=(cur[i].b-cur[i].a)/1e6; tot+=cur[i].b-cur[i].a; if(fo)fprintf(fo,"%.3f %.3f\n",(cur[i].a-t0)/1e6,(cur[i].b-t0)/1e6);}
  if(fo)fclose(fo);
  qsort(len,k,sizeof(double),cmpd); qsort(lat,nr,sizeof(double),cmpd);
  double T=(t1-t0)/1e9;
  printf("dets=%s rate=%g mode=%c rcpu=%d secs=%.1f reads/s=%.0f irq/s=%.0f,%.0f freezes/s=%.2f share=%.2f%% len p10/50/90/max=%.1f/%.1f/%.1f/%.1f ms lat p50/p99/p999=%.0f/%.0f/%.0f us slow>2ms=%zu\n",
    dets,rate,mode,rc,T,nr/T,(i1[0]-i0[0])/T,(i1[1]-i0[1])/T,k/T,100*tot/(T*1e9),k?len[k/10]:0,k?len[k/2]:0,k?len[k*9/10]:0,k?len[k-1]:0,
    nr?lat[nr/2]:0,nr?lat[nr*99/100]:0,nr?lat[nr*999/1000]:0,nslow);
  printf("  /proc/stat busy (incl. spinners) cpu0 %.0f%% cpu1 %.0f%%\n",(b1[0]-b0[0])/(T),(b1[1]-b0[1])/(T));
  { double *sv=malloc(sizeof(double)*(nslow+1)); for(size_t i=0;i<nslow;i++) sv[i]=(slow[i].b-slow[i].a)/1e6; qsort(sv,nslow,sizeof(double),cmpd);
    printf("  slow reads: %.1f/s, p50 %.1f p90 %.1f max %.1f ms\n", nslow/T, nslow?sv[nslow/2]:0, nslow?sv[nslow*9/10]:0, nslow?sv[nslow-1]:0); }
  /* per-detector gap stats >=2ms */
  for(int i=0;i<nd;i++){ if(dets[i]=='-')continue; size_t c=0; double s=0; for(size_t j=0;j<D[i].n;j++) if(D[i].g[j].b-D[i].g[j].a>=2000000){c++;s+=D[i].g[j].b-D[i].g[j].a;}
    printf("  cpu%d(%c): gaps>=2ms %zu, %.2f%%\n",i,dets[i],c,100*s/(T*1e9)); }
  return 0;
}
